"""The sentences of the co-browse app's events (the verbs are helpdesk.events.Verb), and the causes
a session ends with."""

from helpdesk.events import Verb, sentence, value

# Why a linked session ended (the `cause` of a COBROWSE_ENDED event), as the insights count them.
ENDED_BY = {
    "agent": "Session ended by {who}",
    "customer": "Session ended by {customer}",
    "ticket_closed": "Session ended because the ticket was closed",
    "chat_closed": "Session ended because the chat was closed",
    "external_closed": "Session ended because the customer's call or outside chat ended",
    "repair": "Session ended by the repair job (its ticket was already closed)",
    "timeout": "Session ended after a timeout",
    "limit": "Session ended by Cobrowse: the license's session limit was reached",
    "elsewhere": "Session ended in Cobrowse, outside the helpdesk",
}
# The service's ended_reason (CONTRACT 3) as a cause.
CAUSE_OF_ENDED_REASON = {
    "agent_ended": "agent", "device_ended": "customer", "pending_timeout": "timeout",
    "authorizing_timeout": "timeout", "active_timeout": "timeout", "limit_enforcement": "limit",
}
END_REQUEST_REASONS = {
    "ticket_closed": "the ticket was closed", "chat_closed": "the chat was closed",
    "external_closed": "the customer's call or outside chat ended",
    "reconcile": "its ticket was already closed (repair job)",
}
TOOLS = {
    "laser": "{who} used the laser", "drawing": "{who} drew on the customer's screen",
    "control": "{who} switched to the remote control pointer", "clear": "{who} cleared the drawings",
}
UNMATCHED = {
    "no_device": "no device had joined it yet", "device_without_user_id": "its device did not say who it belongs to",
    "device_forbidden": "the agent's policy did not show its device", "device_not_found": "Cobrowse did not know its device",
}


@sentence(Verb.COBROWSE_LINKED)
def _linked(event, who, customer):
    return f"{who} started co-browsing with {customer}"


@sentence(Verb.COBROWSE_LINK_CONFIRMED)
def _confirmed(event, who, customer):
    why = UNMATCHED.get(value(event, "reason"), "it could not be checked")
    return f"{who} confirmed a session whose device could not be matched to {customer} ({why})"


@sentence(Verb.COBROWSE_TAGGED)
def _tagged(event, who, customer):
    return "The co-browse session was tagged with this ticket in Cobrowse"


@sentence(Verb.COBROWSE_TAG_FAILED)
def _tag_failed(event, who, customer):
    error = value(event, "error")
    return f"The co-browse session could not be tagged with this ticket{': ' + error if error else ''}"


@sentence(Verb.COBROWSE_CONSENT_ASKED)
def _consent_asked(event, who, customer):
    return f"{customer} was asked to allow the co-browse session"


@sentence(Verb.COBROWSE_CONSENT_ALLOWED)
def _consent_allowed(event, who, customer):
    return f"{customer} allowed the co-browse session"


@sentence(Verb.COBROWSE_CONSENT_DECLINED)
def _consent_declined(event, who, customer):
    return f"{customer} declined the co-browse session"


@sentence(Verb.COBROWSE_ACTIVE)
def _active(event, who, customer):
    return f"{customer}'s device joined the co-browse session"


@sentence(Verb.COBROWSE_TOOL)
def _tool(event, who, customer):
    return TOOLS.get(value(event, "tool"), "{who} used a co-browse tool").format(who=who)


def _consent_pair(what):
    def requested(event, who, customer):
        return f"{who} requested {what}"

    def allowed(event, who, customer):
        return f"{who} requested {what}; {customer} allowed it"

    def declined(event, who, customer):
        return f"{who} requested {what}; {customer} declined it"

    def stopped(event, who, customer):
        return f"{what[0].upper()}{what[1:]} stopped"

    return requested, allowed, declined, stopped


for _verbs, _what in (
    ((Verb.COBROWSE_FULL_DEVICE_REQUESTED, Verb.COBROWSE_FULL_DEVICE_ALLOWED, Verb.COBROWSE_FULL_DEVICE_DECLINED,
      Verb.COBROWSE_FULL_DEVICE_STOPPED), "full device sharing"),
    ((Verb.COBROWSE_REMOTE_CONTROL_REQUESTED, Verb.COBROWSE_REMOTE_CONTROL_ALLOWED,
      Verb.COBROWSE_REMOTE_CONTROL_DECLINED, Verb.COBROWSE_REMOTE_CONTROL_STOPPED), "remote control"),
):
    for _verb, _fn in zip(_verbs, _consent_pair(_what)):
        sentence(_verb)(_fn)


@sentence(Verb.COBROWSE_LEFT)
def _left(event, who, customer):
    return f"{who} left the co-browse session (it kept running)"


@sentence(Verb.COBROWSE_END_REQUESTED)
def _end_requested(event, who, customer):
    why = END_REQUEST_REASONS.get(value(event, "reason"), "it was asked to")
    return f"The helpdesk is ending the co-browse session because {why}"


@sentence(Verb.COBROWSE_END_FAILED)
def _end_failed(event, who, customer):
    error = value(event, "error")
    return (f"Ending the co-browse session failed (attempt {value(event, 'attempt', '?')}"
            f"{': ' + error if error else ''}); the helpdesk keeps trying")


@sentence(Verb.COBROWSE_ENDED)
def _ended(event, who, customer):
    cause = value(event, "cause") or ("elsewhere" if value(event, "elsewhere") else "")
    return ENDED_BY.get(cause, "The co-browse session ended").format(who=who, customer=customer)


@sentence(Verb.COBROWSE_WATCH_STARTED)
def _watch_started(event, who, customer):
    return f"{who} started watching the co-browse session"


@sentence(Verb.COBROWSE_WATCH_LEFT)
def _watch_left(event, who, customer):
    return f"{who} stopped watching the co-browse session (it kept running)"


@sentence(Verb.COBROWSE_UPDATED)
def _updated(event, who, customer):
    changes = [f"it is {value(event, 'state', 'in a new state')}"]
    for key, label in (("full_device", "full device"), ("remote_control", "remote control")):
        if value(event, key, "off") != "off":
            changes.append(f"{label} {value(event, key)}")
    return f"The co-browse session changed: {', '.join(changes)}"


# --- settings ----------------------------------------------------------------------------------

@sentence(Verb.COBROWSE_SETTINGS_CHANGED)
def _settings(event, who, customer):
    return f"{who} changed the Cobrowse connection settings"


@sentence(Verb.SIGNING_KEY_GENERATED)
def _key_generated(event, who, customer):
    return f"{who} generated signing key {value(event, 'key_id', '(unknown)')}"


@sentence(Verb.SIGNING_KEY_ACTIVATED)
def _key_activated(event, who, customer):
    return f"{who} activated signing key {value(event, 'key_id', '(unknown)')}"


@sentence(Verb.SIGNING_KEY_DISCARDED)
def _key_discarded(event, who, customer):
    return f"{who} discarded signing key {value(event, 'key_id', '(unknown)')}"


@sentence(Verb.POLICY_CHANGED)
def _policy_changed(event, who, customer):
    return f"{who} changed the JWT policy of {value(event, 'team', 'a team')}"


@sentence(Verb.POLICY_REMOVED)
def _policy_removed(event, who, customer):
    return f"{who} removed the JWT policy of {value(event, 'team', 'a team')}"

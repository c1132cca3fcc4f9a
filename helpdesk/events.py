"""What the helpdesk records: every event verb (one enumeration) and the sentence a person reads.

The activity lists, the outgoing webhooks and the co-browse app name verbs through `Verb` only.
Each verb has a sentence: the helpdesk's own are here, an app registers those of its verbs with
`@sentence(Verb.X)` (the co-browse app in integrations/cobrowse/events.py), so this module never
imports an app. A sentence reads the event's actor, its ticket's customer and its data; stored
data can be older than the code, so a sentence never fails on a missing key.
"""

from django.db import models


class Verb(models.TextChoices):
    # tickets
    OPENED = "opened", "Ticket opened"
    REPLIED = "replied", "Reply sent"
    NOTED = "noted", "Internal note added"
    ASSIGNED = "assigned", "Ticket assigned"
    STATUS_CHANGED = "status_changed", "Status changed"
    CLOSED = "closed", "Ticket closed"
    REOPENED = "reopened", "Ticket reopened"
    # live chat
    CHAT_STARTED = "chat_started", "Chat started"
    CHAT_CLOSED = "chat_closed", "Chat closed"
    CHAT_SITE_CREATED = "chat_site_created", "Chat site added"
    CHAT_SITE_SECRET_ROTATED = "chat_site_secret_rotated", "Chat site secret rotated"
    # webhooks
    WEBHOOK_CREATED = "webhook_created", "Webhook added"
    WEBHOOK_SECRET_ROTATED = "webhook_secret_rotated", "Webhook secret rotated"
    WEBHOOK_ENABLED = "webhook_enabled", "Webhook enabled"
    WEBHOOK_DISABLED = "webhook_disabled", "Webhook disabled"
    WEBHOOK_DELETED = "webhook_deleted", "Webhook deleted"
    WEBHOOK_REPLAYED = "webhook_replayed", "Webhook delivery replayed"
    # co-browse settings
    COBROWSE_SETTINGS_CHANGED = "cobrowse_settings_changed", "Cobrowse connection changed"
    SIGNING_KEY_GENERATED = "signing_key_generated", "Signing key generated"
    SIGNING_KEY_ACTIVATED = "signing_key_activated", "Signing key activated"
    SIGNING_KEY_DISCARDED = "signing_key_discarded", "Signing key discarded"
    POLICY_CHANGED = "policy_changed", "JWT policy changed"
    POLICY_REMOVED = "policy_removed", "JWT policy removed"
    # co-browse sessions on a ticket
    COBROWSE_LINKED = "cobrowse_linked", "Co-browse session started"
    COBROWSE_LINK_CONFIRMED = "cobrowse_link_confirmed", "Unmatched co-browse device confirmed"
    COBROWSE_TAGGED = "cobrowse_tagged", "Co-browse session tagged"
    COBROWSE_TAG_FAILED = "cobrowse_tag_failed", "Co-browse session not tagged"
    COBROWSE_CONSENT_ASKED = "cobrowse_consent_asked", "Customer asked to allow co-browsing"
    COBROWSE_CONSENT_ALLOWED = "cobrowse_consent_allowed", "Customer allowed co-browsing"
    COBROWSE_CONSENT_DECLINED = "cobrowse_consent_declined", "Customer declined co-browsing"
    COBROWSE_ACTIVE = "cobrowse_active", "Customer's device joined"
    COBROWSE_TOOL = "cobrowse_tool", "Co-browse tool used"
    COBROWSE_FULL_DEVICE_REQUESTED = "cobrowse_full_device_requested", "Full device requested"
    COBROWSE_FULL_DEVICE_ALLOWED = "cobrowse_full_device_allowed", "Full device allowed"
    COBROWSE_FULL_DEVICE_DECLINED = "cobrowse_full_device_declined", "Full device declined"
    COBROWSE_FULL_DEVICE_STOPPED = "cobrowse_full_device_stopped", "Full device stopped"
    COBROWSE_REMOTE_CONTROL_REQUESTED = "cobrowse_remote_control_requested", "Remote control requested"
    COBROWSE_REMOTE_CONTROL_ALLOWED = "cobrowse_remote_control_allowed", "Remote control allowed"
    COBROWSE_REMOTE_CONTROL_DECLINED = "cobrowse_remote_control_declined", "Remote control declined"
    COBROWSE_REMOTE_CONTROL_STOPPED = "cobrowse_remote_control_stopped", "Remote control stopped"
    COBROWSE_LEFT = "cobrowse_left", "Agent left a co-browse session"
    COBROWSE_END_REQUESTED = "cobrowse_end_requested", "Co-browse end requested"
    COBROWSE_END_FAILED = "cobrowse_end_failed", "Co-browse end failed"
    COBROWSE_ENDED = "cobrowse_ended", "Co-browse session ended"
    COBROWSE_WATCH_STARTED = "cobrowse_watch_started", "Supervisor started watching"
    COBROWSE_WATCH_LEFT = "cobrowse_watch_left", "Supervisor stopped watching"
    # Recorded before the session's changes had verbs of their own; kept so old rows still read.
    COBROWSE_UPDATED = "cobrowse_updated", "Co-browse session changed"


SENTENCES = {}


def sentence(*verbs):
    """Register fn(event, who, customer) -> str as the sentence of these verbs."""
    def register(fn):
        for verb in verbs:
            SENTENCES[Verb(verb)] = fn
        return fn
    return register


def who(event):
    """The event's actor as the sentence names them."""
    return event.actor.display_name if event.actor_id and event.actor else "The helpdesk"


def customer_of(event):
    ticket = event.ticket if event.ticket_id else None
    return ticket.customer.name if ticket is not None else "The customer"


def describe(event):
    """The sentence of a stored event; an unknown verb (from a newer version) still reads."""
    try:
        fn = SENTENCES[Verb(event.verb)]
    except (KeyError, ValueError):
        return f"{who(event)}: {event.verb.replace('_', ' ')}"
    return fn(event, who(event), customer_of(event))


def value(event, key, default=""):
    value = (event.data or {}).get(key)
    return default if value in (None, "") else value


# --- the helpdesk's own sentences -----------------------------------------------------------

CHANNELS = {"email": "by email", "chat": "from a live chat", "web": "from the web form", "phone": "by phone"}
TICKET_CLOSE_REASONS = {"agent": "", "chat": " when its chat closed", "webhook": " from an outside system"}
CHAT_CLOSE_REASONS = {
    "agent": "", "customer": " (the customer left)", "customer_gone": " (the customer went away)",
    "webhook": " (from an outside system)", "ticket": " (its ticket was closed)",
    "ticket_closed": " (its ticket was closed)",
}


@sentence(Verb.OPENED)
def _opened(event, who, customer):
    channel = CHANNELS.get(value(event, "channel"), "")
    opener = who if event.actor_id else customer
    return f"{opener} opened the ticket{' ' + channel if channel else ''}"


@sentence(Verb.REPLIED)
def _replied(event, who, customer):
    return f"{who} replied"


@sentence(Verb.NOTED)
def _noted(event, who, customer):
    return f"{who} added an internal note"


@sentence(Verb.ASSIGNED)
def _assigned(event, who, customer):
    assignee = value(event, "assignee")
    return f"{who} assigned the ticket to {assignee}" if assignee else f"{who} unassigned the ticket"


@sentence(Verb.STATUS_CHANGED)
def _status(event, who, customer):
    return f"{who} set the status to {value(event, 'status', 'another status')}"


@sentence(Verb.CLOSED)
def _closed(event, who, customer):
    reason = value(event, "reason", "agent")
    return f"{who} closed the ticket{TICKET_CLOSE_REASONS.get(reason, f' ({reason})')}"


@sentence(Verb.REOPENED)
def _reopened(event, who, customer):
    return f"{who} reopened the ticket"


@sentence(Verb.CHAT_STARTED)
def _chat_started(event, who, customer):
    site = value(event, "site")
    return f"{customer} started a live chat{f' on {site}' if site else ''}"


@sentence(Verb.CHAT_CLOSED)
def _chat_closed(event, who, customer):
    reason = value(event, "reason", "agent")
    closer = who if event.actor_id else "The chat"
    verb = "closed the chat" if event.actor_id else "was closed"
    return f"{closer} {verb}{CHAT_CLOSE_REASONS.get(reason, '')}"


@sentence(Verb.CHAT_SITE_CREATED)
def _site_created(event, who, customer):
    return f"{who} added the chat site {value(event, 'site', '(no name)')}"


@sentence(Verb.CHAT_SITE_SECRET_ROTATED)
def _site_rotated(event, who, customer):
    return f"{who} rotated the secret of the chat site {value(event, 'site', '(no name)')}"


@sentence(Verb.WEBHOOK_CREATED)
def _webhook_created(event, who, customer):
    return f"{who} added the {value(event, 'kind', 'new')} webhook {value(event, 'name', '(no name)')}"


@sentence(Verb.WEBHOOK_SECRET_ROTATED)
def _webhook_rotated(event, who, customer):
    return f"{who} rotated the secret of webhook {value(event, 'name', '(no name)')}"


@sentence(Verb.WEBHOOK_ENABLED)
def _webhook_enabled(event, who, customer):
    return f"{who} enabled webhook {value(event, 'name', '(no name)')}"


@sentence(Verb.WEBHOOK_DISABLED)
def _webhook_disabled(event, who, customer):
    return f"{who} disabled webhook {value(event, 'name', '(no name)')}"


@sentence(Verb.WEBHOOK_DELETED)
def _webhook_deleted(event, who, customer):
    return f"{who} deleted webhook {value(event, 'name', '(no name)')}"


@sentence(Verb.WEBHOOK_REPLAYED)
def _webhook_replayed(event, who, customer):
    return f"{who} replayed a {value(event, 'event_type', 'webhook')} delivery to {value(event, 'name', '(no name)')}"


WEBHOOK_VERBS = (Verb.WEBHOOK_CREATED, Verb.WEBHOOK_SECRET_ROTATED, Verb.WEBHOOK_ENABLED, Verb.WEBHOOK_DISABLED,
                 Verb.WEBHOOK_DELETED, Verb.WEBHOOK_REPLAYED)

"""Co-browse actions on tickets: verify and link a session, follow its state, end it durably.

REST calls happen here and in tasks, never while a page renders.
"""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from helpdesk import services as helpdesk
from helpdesk.events import Verb
from helpdesk.models import Ticket
from helpdesk.ops import metrics

from . import account, tokens
from .client import CobrowseClient, CobrowseError, Forbidden, NotConfigured, NotFound, SESSION_ID_RE, Unavailable
from .events import CAUSE_OF_ENDED_REASON
from .models import SessionLink

log = logging.getLogger(__name__)
END_BACKOFF_MAX = 300  # seconds between two end attempts, at most
TAG_RETRY = 5  # seconds; while no token can be made nothing changes until an admin acts, so:
TAG_RETRY_NOT_CONFIGURED = 60


class LinkRefused(Exception):
    """The reported session cannot be linked to this ticket; the message says why."""


class NeedsConfirmation(LinkRefused):
    """The session's device could not be matched to the ticket's customer (`reason`, one of
    UNVERIFIED): it is not linked unless an agent confirms. A caller that does not know about
    confirmations treats it as a refusal."""

    def __init__(self, message, reason):
        super().__init__(message)
        self.reason = reason


# Why a session's device could not be matched to the ticket's customer.
UNVERIFIED = {
    "no_device": "no device has joined it yet",
    "device_without_user_id": "its device does not say which customer it belongs to",
    "device_forbidden": "your Cobrowse policy does not show its device",
    "device_not_found": "Cobrowse does not know its device",
}


def agent_client(agent):
    return CobrowseClient(lambda refresh=False: tokens.agent_token(agent, refresh=refresh))


def admin_client():
    return CobrowseClient(lambda refresh=False: tokens.admin_token(refresh=refresh))


def check_connection():
    """Ask Cobrowse who the helpdesk is with its own token: proves API, license key and key."""
    return admin_client().me()


def check_key(key):
    """Cobrowse accepts a token signed with this (pending) key: its public key is registered."""
    return CobrowseClient(lambda refresh=False: tokens.mint(
        tokens.SYSTEM_SUB, name="Helpdesk", role="administrator", lifetime=60,
        key=(key.key_id, account.private_key_of(key)))).me()


def preview_policy(agent, policy, limit=50):
    """The devices a member of a team with this (draft) policy would see, listed by Cobrowse itself."""
    return CobrowseClient(lambda refresh=False: tokens.mint(
        agent.email, name=agent.display_name, role="agent", policy=policy, lifetime=60)).list_devices(limit=limit)


def ticket_url(ticket):
    return f"{settings.HELPDESK_PUBLIC_URL}{reverse('ticket_detail', args=[ticket.pk])}"


def _fetch_for_agent(agent, session_id):
    if not SESSION_ID_RE.match(session_id or ""):
        raise LinkRefused("That is not a Cobrowse session id.")
    try:
        return agent_client(agent).get_session(session_id)
    except NotFound:
        raise LinkRefused("Cobrowse does not know this session (in this account).") from None
    except Forbidden:
        raise LinkRefused("Your Cobrowse policy does not allow this session.") from None
    except NotConfigured:
        raise  # not this session's fault: the caller says co-browse is not available
    except CobrowseError as exc:
        raise _not_linked(exc) from None


def _not_linked(exc):
    """A Cobrowse failure while checking a session, as the agent reads it."""
    if isinstance(exc, Unavailable):
        return LinkRefused(f"{exc.message} The session was not linked; try again.")
    return LinkRefused(exc.message)


def _refused(ticket, agent, session_id, why):
    log.warning("co-browse link refused: ticket=%s session=%s agent=%s: %s",
                ticket.pk, session_id, getattr(agent, "pk", None), why)
    return LinkRefused("This session is with another customer's device; it was not linked.")


def _user_id(resource):
    data = resource.get("custom_data") if isinstance(resource, dict) else None
    return data.get("user_id") if isinstance(data, dict) else None


def unverified_reason(ticket, agent, session):
    """Whether the session's device belongs to the ticket's customer.

    None when it does; a key of UNVERIFIED when that cannot be established. Raises LinkRefused
    when it belongs to someone else. The session's custom_data proves nothing (an agent creating
    the session chooses it), so only a contradiction there counts; the owner is the user_id the
    device itself carries, read with the agent's own token."""
    expected = ticket.customer.user_id
    claimed = _user_id(session)
    if claimed is not None and str(claimed) != expected:
        raise _refused(ticket, agent, session["id"], "the session's custom_data names another customer")
    device_id = session.get("device_id")
    if not isinstance(device_id, str) or not device_id:
        if session.get("device") and claimed is not None:
            # A service that does not say which device a session is on: a session started on the
            # device (code or push) carries a copy of the device's custom_data, so a matching
            # user_id is the best evidence there is.
            return None
        return "no_device"
    try:
        device = agent_client(agent).get_device(device_id)
    except NotFound:
        return "device_not_found"
    except Forbidden:
        return "device_forbidden"
    except NotConfigured:
        raise
    except CobrowseError as exc:
        raise _not_linked(exc) from None
    owner = _user_id(device)
    if owner is None or str(owner) == "":
        return "device_without_user_id"
    if str(owner) != expected:
        raise _refused(ticket, agent, session["id"], f"device {device_id} belongs to another customer")
    return None


def _apply(link, session):
    link.state = session.get("state") or link.state
    link.full_device = session.get("full_device") or "off"
    link.remote_control = session.get("remote_control") or "off"
    device = session.get("device") or {}
    link.device_name = (device.get("device") or device.get("app_name") or "")[:200]
    link.updated_at = timezone.now()
    if link.state == SessionLink.State.ACTIVE and link.activated_at is None:
        link.activated_at = link.updated_at
    if link.state == SessionLink.State.ENDED and link.ended_at is None:
        link.ended_at = timezone.now()
        if link.end_requested_at is not None:  # observed once committed: a rolled-back end did not happen
            transaction.on_commit(partial(metrics.observe_session_end, link.end_requested_at, link.ended_at))


def _link_check(ticket, agent, session, confirmed):
    """Before linking: the key of UNVERIFIED the agent confirmed, or None; raises LinkRefused
    (NeedsConfirmation when the device could not be matched and the agent has not confirmed)."""
    linked_to = SessionLink.objects.filter(session_id=session["id"]).values_list("ticket_id", flat=True).first()
    if linked_to is not None and linked_to != ticket.pk:
        raise LinkRefused(f"This session already belongs to ticket #{linked_to}.")
    if linked_to is not None:  # a session already linked here was checked when it was linked
        return None
    reason = unverified_reason(ticket, agent, session)
    if reason and not confirmed:
        raise NeedsConfirmation(
            f"This session's device could not be matched to {ticket.customer.name} ({UNVERIFIED[reason]}). "
            "Link it anyway?", reason)
    return reason


def link_session(ticket, agent, session_id, *, confirmed=False):
    """Verify a session reported by an agent's browser and link it to the ticket.

    The id is checked with a REST get using the agent's own token, so their policy applies, and
    the session's device must belong to the ticket's customer. When that cannot be established
    the session is linked only if the agent `confirmed` it (recorded on the ticket); a device of
    another customer is refused whatever the agent says.
    """
    session = _fetch_for_agent(agent, session_id)
    reason = _link_check(ticket, agent, session, confirmed)
    try:
        return _link(ticket, agent, session, reason)
    except IntegrityError:  # the same session reported twice at once: the other report linked it
        return _link(ticket, agent, session, reason)


def _link(ticket, agent, session, reason):
    with transaction.atomic():
        existing = SessionLink.objects.select_for_update().filter(session_id=session["id"]).first()
        if existing and existing.ticket_id != ticket.pk:
            raise LinkRefused(f"This session already belongs to ticket #{existing.ticket_id}.")
        if existing:
            _apply(existing, session)
            existing.save()
            _panel_changed(ticket)
            return existing, False
        link = SessionLink(ticket=ticket, session_id=session["id"], agent=agent)
        _apply(link, session)
        link.save()
        if reason:
            helpdesk.record(ticket, agent, Verb.COBROWSE_LINK_CONFIRMED, session_id=link.session_id, reason=reason)
        helpdesk.record(ticket, agent, Verb.COBROWSE_LINKED, session_id=link.session_id, state=link.state)
        if link.state == SessionLink.State.AUTHORIZING:
            helpdesk.record(ticket, agent, Verb.COBROWSE_CONSENT_ASKED, session_id=link.session_id)
        from .tasks import tag_session  # tasks import this module

        tag_session.enqueue(link.pk)
        if ticket.is_closed and link.is_live:
            _request_end(link, reason="ticket_closed")
        _panel_changed(ticket)
    return link, True


def record_session_update(ticket, agent, session_id):
    """The agent's page saw the session change: re-read it, store the new state and record what
    changed, once: the link is locked while it is compared, so two reports of the same change
    arriving together record one event."""
    if not SessionLink.objects.filter(ticket=ticket, session_id=session_id).exists():
        return link_session(ticket, agent, session_id)[0]
    session = _fetch_for_agent(agent, session_id)
    with transaction.atomic():
        link = SessionLink.objects.select_for_update().get(ticket=ticket, session_id=session_id)
        before = (link.state, link.full_device, link.remote_control, link.device_name)
        _apply(link, session)
        link.save()
        if (link.state, link.full_device, link.remote_control, link.device_name) != before:
            for verb, data in transitions(before, link, session):
                helpdesk.record(ticket, agent, verb, session_id=session_id, **data)
            _panel_changed(ticket)
    return link


def transitions(before, link, session):
    """The events a change of a linked session makes: (verb, data) pairs, in the order they happened."""
    state, full_device, remote_control, _ = before
    State = SessionLink.State
    changes = []
    if link.state != state:
        if link.state == State.AUTHORIZING:
            changes.append((Verb.COBROWSE_CONSENT_ASKED, {}))
        elif link.state == State.ACTIVE:
            changes.append((Verb.COBROWSE_CONSENT_ALLOWED if state == State.AUTHORIZING else Verb.COBROWSE_ACTIVE, {}))
        elif link.state == State.ENDED:
            if state == State.AUTHORIZING and session.get("ended_reason") == "device_ended":
                changes.append((Verb.COBROWSE_CONSENT_DECLINED, {}))
            changes.append((Verb.COBROWSE_ENDED, {"cause": end_cause(link, session)}))
    if link.state != State.ENDED:  # an end resets both to off: that stops nothing by itself
        for feature, old, new in (("full_device", full_device, link.full_device),
                                  ("remote_control", remote_control, link.remote_control)):
            step = {"requested": "REQUESTED", "rejected": "DECLINED",
                    "on": "ALLOWED" if old == "requested" else None, "off": "STOPPED" if old == "on" else None}
            if old != new and step.get(new):
                changes.append((Verb[f"COBROWSE_{feature.upper()}_{step[new]}"], {}))
    return changes


def end_cause(link, session):
    """Why a linked session ended (a key of events.ENDED_BY): the helpdesk's own reason when it
    asked for the end, else what the service says."""
    return link.end_reason or CAUSE_OF_ENDED_REASON.get(session.get("ended_reason"), "elsewhere")


# Tools whose effect is a change of the session: recorded as that change once it is seen.
SESSION_CHANGING_TOOLS = {"full_device", "remote_control", "end"}


def record_tool(ticket, agent, session_id, tool):
    if tool in SESSION_CHANGING_TOOLS:
        return record_session_update(ticket, agent, session_id)
    helpdesk.record(ticket, agent, Verb.COBROWSE_TOOL, session_id=session_id, tool=tool)


def record_left(ticket, agent, session_id):
    helpdesk.record(ticket, agent, Verb.COBROWSE_LEFT, session_id=session_id)


def _panel_changed(ticket):
    transaction.on_commit(lambda: helpdesk.ticket_changed.send(sender=Ticket, ticket_id=ticket.pk, what="cobrowse"))


# --- ending --------------------------------------------------------------------------------

# Why the helpdesk asked for an end, as the cause the session ended with (events.ENDED_BY).
END_REASONS = {"reconcile": "repair"}


def _request_end(link, *, reason):
    from .tasks import end_session

    link.end_reason = END_REASONS.get(reason, reason)
    SessionLink.objects.filter(pk=link.pk, end_requested_at__isnull=True).update(
        end_requested_at=timezone.now(), end_reason=link.end_reason)
    helpdesk.record(link.ticket, None, Verb.COBROWSE_END_REQUESTED, session_id=link.session_id, reason=reason)
    _panel_changed(link.ticket)
    end_session.enqueue(link.pk)


def end_linked_sessions(ticket, actor, kind, reason):
    """A close hook (helpdesk/closing.py): the ticket, its chat or an outside interaction about it
    ended, so every live linked session gets an end request, in the same transaction."""
    for link in SessionLink.objects.live().filter(ticket=ticket, end_requested_at__isnull=True).select_related("ticket"):
        _request_end(link, reason=f"{kind}_closed")


def end_backoff(attempts):
    return min(END_BACKOFF_MAX, 2 ** min(attempts, 10))


def try_end(link_id):
    """One attempt to end a linked session. Returns the seconds to wait before the next
    attempt, or None when nothing is left to do (ended, or the link is gone)."""
    with transaction.atomic():
        link = SessionLink.objects.select_for_update().select_related("ticket").filter(pk=link_id).first()
        if link is None or link.ended_at is not None:
            return None
        link.end_attempts += 1
        link.save(update_fields=["end_attempts"])
    try:
        session = admin_client().end_session(link.session_id)
    except NotFound:
        session = {"state": "ended"}  # gone from the service: nothing to end
    except CobrowseError as exc:  # unavailable, not configured, or refused: keep trying with a backoff, and say so
        log.warning("Ending co-browse session %s (link %s, ticket %s) failed, attempt %s: %s",
                    link.session_id, link.pk, link.ticket_id, link.end_attempts, exc.message)
        SessionLink.objects.filter(pk=link.pk).update(last_error=exc.message[:300])
        _panel_changed(link.ticket)
        if link.end_attempts in (1, 5) or link.end_attempts % 20 == 0:
            helpdesk.record(link.ticket, None, Verb.COBROWSE_END_FAILED, session_id=link.session_id,
                            attempt=link.end_attempts, error=exc.message)
        return end_backoff(link.end_attempts)
    with transaction.atomic():
        link = SessionLink.objects.select_for_update().select_related("ticket").get(pk=link.pk)
        if link.ended_at is not None:
            return None
        _apply(link, session)
        if link.state != SessionLink.State.ENDED:
            return end_backoff(link.end_attempts)
        link.last_error = ""
        link.save()
        helpdesk.record(link.ticket, None, Verb.COBROWSE_ENDED, session_id=link.session_id, attempts=link.end_attempts,
                        cause=end_cause(link, session))
        _panel_changed(link.ticket)
    return None


def tag(link_id):
    """Merge {ticket_id, ticket_url} into the session's custom_data. Returns a retry delay or None."""
    link = SessionLink.objects.select_related("ticket", "agent").filter(pk=link_id).first()
    if link is None or link.tagged_at is not None:
        return None
    client = agent_client(link.agent) if link.agent else admin_client()
    try:
        client.update_session(link.session_id, {"custom_data": {
            "ticket_id": str(link.ticket_id), "ticket_url": ticket_url(link.ticket),
        }})
    except Unavailable as exc:
        log.warning("Tagging co-browse session %s (link %s, ticket %s) failed, will retry: %s",
                    link.session_id, link.pk, link.ticket_id, exc.message)
        SessionLink.objects.filter(pk=link.pk).update(last_error=exc.message[:300])
        _panel_changed(link.ticket)
        return TAG_RETRY_NOT_CONFIGURED if isinstance(exc, NotConfigured) else TAG_RETRY
    except CobrowseError as exc:
        # Ended sessions cannot be changed; a policy may forbid it. Record it and stop.
        log.warning("Tagging co-browse session %s (link %s, ticket %s) refused, giving up: %s",
                    link.session_id, link.pk, link.ticket_id, exc.message)
        helpdesk.record(link.ticket, None, Verb.COBROWSE_TAG_FAILED, session_id=link.session_id, error=exc.message)
        return None
    except tokens.NoPolicy as exc:  # the team's policy was removed since the link
        log.warning("Tagging co-browse session %s (link %s, ticket %s) not possible, giving up: %s",
                    link.session_id, link.pk, link.ticket_id, exc)
        helpdesk.record(link.ticket, None, Verb.COBROWSE_TAG_FAILED, session_id=link.session_id, error=str(exc))
        return None
    SessionLink.objects.filter(pk=link.pk).update(tagged_at=timezone.now(), last_error="")
    helpdesk.record(link.ticket, None, Verb.COBROWSE_TAGGED, session_id=link.session_id)
    return None


# --- reconcile -----------------------------------------------------------------------------

def reconcile(stale_after=timedelta(minutes=2)):
    """Repair what a crash or an outage may have left: re-enqueue ends that stalled, end the
    live links of closed tickets, and mark links whose session ended elsewhere.

    Only the helpdesk's own links count: a ticket_id in a session's custom_data may have been
    written by the device, so a session without a link is never linked or ended here."""
    from .tasks import end_session

    now = timezone.now()
    report = {"requeued": 0, "ended_closed": 0, "marked_ended": 0}
    stalled = SessionLink.objects.filter(end_requested_at__lt=now - stale_after, ended_at__isnull=True)
    for link in stalled:
        end_session.enqueue(link.pk)
        report["requeued"] += 1
    # Before any REST call, so an outage never holds these back (an end is durable).
    left_open = SessionLink.objects.live().filter(ticket__status=Ticket.Status.CLOSED, end_requested_at__isnull=True)
    for link in left_open.select_related("ticket"):
        with transaction.atomic():
            _request_end(link, reason="reconcile")
        report["ended_closed"] += 1
    client = admin_client()
    for link in SessionLink.objects.live().filter(end_requested_at__isnull=True):
        try:
            session = client.get_session(link.session_id)
        except NotFound:
            session = {"state": "ended"}
        if session.get("state") == SessionLink.State.ENDED:
            with transaction.atomic():
                _apply(link, session)
                link.save()
                helpdesk.record(link.ticket, None, Verb.COBROWSE_ENDED, session_id=link.session_id, elsewhere=True,
                                cause=end_cause(link, session))
                _panel_changed(link.ticket)
            report["marked_ended"] += 1
    return report

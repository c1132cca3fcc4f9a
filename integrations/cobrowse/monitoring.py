"""What supervisors see: every active co-browse session on the account, and watching one.

Counting pages through the service with an administrator token (agent=all), past its listing
limit. The result is shared by every supervisor for a few seconds, so dashboards that refresh
themselves do not multiply the calls.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from helpdesk import services as helpdesk
from helpdesk.models import Ticket

from .client import CobrowseError
from .models import SessionLink
from .services import admin_client

CACHE_KEY = "cobrowse-active-sessions-v1"
SNAPSHOT_SECONDS = 5
NOT_LINKED = "Not linked to a ticket"

log = logging.getLogger(__name__)


@dataclass
class ActiveSession:
    id: str
    agent: str
    device: str
    activated: datetime | None
    ticket_id: int | None = None
    team: str = NOT_LINKED


@dataclass
class Snapshot:
    sessions: list = field(default_factory=list)
    by_team: list = field(default_factory=list)  # [(team name, count)], largest first
    taken_at: datetime | None = None
    rest_calls: int = 0
    error: str = ""

    @property
    def total(self):
        return len(self.sessions)


def device_name(device):
    if not isinstance(device, dict):
        return ""
    parts = [device.get("device") or device.get("app_name"), device.get("os_name") or device.get("platform")]
    return " · ".join(str(p) for p in parts if p)[:120]


def _ticket_ids(raw_sessions):
    """session id -> ticket id, from the helpdesk's own links only: a ticket_id in a session's
    custom_data may have been written by the customer's device."""
    found, ids = {}, [s["id"] for s in raw_sessions]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        found.update(SessionLink.objects.filter(session_id__in=chunk).values_list("session_id", "ticket_id"))
    return found


def _teams(ticket_ids):
    teams = {}
    ids = sorted(set(ticket_ids))
    for start in range(0, len(ids), 500):
        rows = Ticket.objects.filter(pk__in=ids[start:start + 500]).values_list("pk", "team__name")
        teams.update(rows)
    return teams


def take_snapshot():
    client = admin_client()
    sessions, links, chunk = [], {}, []
    try:
        for s in client.iter_sessions(state=["active"], agent="all"):
            agent = s.get("agent") or {}
            sessions.append(ActiveSession(
                id=s["id"], agent=agent.get("name") or agent.get("email") or "—",
                device=device_name(s.get("device")), activated=parse_datetime(s.get("activated") or ""),
            ))
            chunk.append(s)
            if len(chunk) == 500:
                links.update(_ticket_ids(chunk))
                chunk = []
    except CobrowseError as exc:  # unavailable, refused, or no token can be made (NotConfigured)
        log.warning("Counting active co-browse sessions failed: %s", exc.message)
        return Snapshot(taken_at=timezone.now(), rest_calls=client.calls, error=exc.message)
    links.update(_ticket_ids(chunk))
    teams = _teams(links.values())
    counts = {}
    for session in sessions:
        ticket_id = links.get(session.id)
        if ticket_id in teams:  # else not linked, or the ticket was deleted since
            session.ticket_id, session.team = ticket_id, teams[ticket_id]
        counts[session.team] = counts.get(session.team, 0) + 1
    by_team = sorted(counts.items(), key=lambda item: (item[0] == NOT_LINKED, -item[1], item[0]))
    return Snapshot(sessions, by_team, timezone.now(), client.calls)


def active_sessions(refresh=False):
    """The shared snapshot of active sessions, at most SNAPSHOT_SECONDS old (unless refresh)."""
    snapshot = None if refresh else cache.get(CACHE_KEY)
    if snapshot is None:
        snapshot = take_snapshot()
        cache.set(CACHE_KEY, snapshot, SNAPSHOT_SECONDS if not snapshot.error else 1)
    return snapshot


# --- watching --------------------------------------------------------------------------------

def linked_ticket(session):
    """The ticket a session is linked to here (never its custom_data tag); None if none."""
    link = SessionLink.objects.select_related("ticket").filter(session_id=session["id"]).first()
    return link.ticket if link else None


def record_watch(ticket, supervisor, session_id, verb):
    """A supervisor started (Verb.COBROWSE_WATCH_STARTED) or stopped (Verb.COBROWSE_WATCH_LEFT) watching."""
    if ticket is None:
        return
    with transaction.atomic():
        helpdesk.record(ticket, supervisor, verb, session_id=session_id)
        transaction.on_commit(lambda: helpdesk.ticket_changed.send(sender=Ticket, ticket_id=ticket.pk, what="cobrowse"))

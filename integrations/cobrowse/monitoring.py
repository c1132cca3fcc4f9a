"""What supervisors see: every active co-browse session on the account, and watching one.

Counting pages through the service with an administrator token (agent=all), past its listing
limit. The result is shared by every supervisor for a few seconds, so dashboards that refresh
themselves do not multiply the calls.
"""

import logging
import queue
import threading
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.db import connection, connections, transaction
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
    custom_data may have been written by the customer's device. Plain SQL: compiling a lookup of
    500 ids through the ORM costs more than running it, and a count reads 20 such chunks."""
    found, ids = {}, [s["id"] for s in raw_sessions]
    quote = connection.ops.quote_name
    table = quote(SessionLink._meta.db_table)
    session_id, ticket_id = (quote(SessionLink._meta.get_field(name).column) for name in ("session_id", "ticket"))
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            cursor.execute(f"SELECT {session_id}, {ticket_id} FROM {table}"
                           f" WHERE {session_id} IN ({', '.join(['%s'] * len(chunk))})", chunk)
            found.update(cursor.fetchall())
    return found


def _teams(ticket_ids):
    teams = {}
    ids = sorted(set(ticket_ids))
    for start in range(0, len(ids), 500):
        rows = Ticket.objects.filter(pk__in=ids[start:start + 500]).values_list("pk", "team__name")
        teams.update(rows)
    return teams


_DONE = object()


def _read_ahead(iterator):
    """The items of `iterator`, taken from it by a thread of its own: the next page of sessions is
    asked for while this one is being looked up, instead of after. Its exception is raised here."""
    items, stop = queue.SimpleQueue(), threading.Event()

    def produce():
        try:
            for item in iterator:
                if stop.is_set():  # the reader gave up
                    return
                items.put(item)
            items.put(_DONE)
        except BaseException as exc:  # handed to the reader, which raises it
            items.put(exc)
        finally:
            connections.close_all()  # a token renewed on this thread may have read the database

    thread = threading.Thread(target=produce, name="cobrowse-count", daemon=True)
    thread.start()
    try:
        while (item := items.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def take_snapshot():
    client = admin_client()
    sessions, links, chunk = [], {}, []
    try:
        client = client.with_token_made_now()  # the pages are read on another thread
        for s in _read_ahead(client.iter_sessions(state=["active"], agent="all")):
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

"""Versions of what cached page fragments show, read from the database so that every process agrees.

Services move a ticket's updated_at on every change to its state and add messages and events (events
are append-only). Everything else a viewing agent sees change (viewers, the chat panel, co-browse
links) is pushed to the ticket's live viewers, and every push first bumps the ticket's revision.
Edits outside the services happen in the admin, which writes a log entry for each one; the newest
entry's id versions everything the admin can change (customers, agents, teams, tickets, messages).
A cache key made of these values changes whenever the fragment's content does.

Plain SQL: these run on every page view, and building the same queries with the ORM costs more
than running them.
"""

import functools
from types import SimpleNamespace

from django.contrib.admin.models import LogEntry
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import F

from .models import Agent, Conversation, Event, Message, Ticket
from .access import visible_tickets

# Admin edits, and agents added by any means (the page offers every agent of the team for assignment).
# Two columns: the newest admin log entry and the newest agent.
ADMIN_VERSION_SQL = f"(SELECT MAX(id) FROM {LogEntry._meta.db_table}), (SELECT MAX(id) FROM {Agent._meta.db_table})"


def _admin_version(newest_log_entry, newest_agent):
    return f"{newest_log_entry}-{newest_agent}"


def _one_row(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _newest_visible(agent):
    """SQL of the newest updated_at among the tickets the agent may see: the list's version."""
    return _newest_visible_sql(agent.sees_all_teams if agent else False, agent.team_id if agent else None)


@functools.lru_cache(maxsize=1024)
def _newest_visible_sql(sees_all_teams, team_id):
    # Built by the ORM from the one visibility rule, once per kind of agent: compiling costs
    # more than running it. visible_tickets reads only these two attributes.
    agent = SimpleNamespace(sees_all_teams=sees_all_teams, team_id=team_id)
    try:
        return visible_tickets(agent).order_by("-updated_at").values("updated_at")[:1].query.sql_with_params()
    except EmptyResultSet:  # the agent sees no ticket at all
        return "SELECT NULL", ()


def list_version(agent):
    """Key of the ticket list an agent sees: any change to a visible ticket moves it."""
    sql, params = _newest_visible(agent)
    newest_visible, admin, newest_agent = _one_row(f"SELECT ({sql}), {ADMIN_VERSION_SQL}", params)
    return newest_visible, _admin_version(admin, newest_agent)


def bump(ticket_id):
    """Something shown on the ticket's page changed: its cached fragments are stale."""
    Ticket.objects.filter(pk=ticket_id).update(revision=F("revision") + 1)


def fragment_versions(ticket, agent=None):
    """Cache keys of the ticket page: its thread, its activity and the whole page; with an agent,
    also the key of the ticket list beside it. One query: the page runs it on every view."""
    list_sql, list_params = _newest_visible(agent) if agent else ("SELECT NULL", ())
    created_at, updated_at, revision, last_message, last_event, admin, newest_agent, newest_visible = _one_row(
        f"SELECT created_at, updated_at, revision,"
        f" (SELECT MAX(m.id) FROM {Message._meta.db_table} m JOIN {Conversation._meta.db_table} c"
        f"  ON m.conversation_id = c.id WHERE c.ticket_id = t.id),"
        f" (SELECT MAX(id) FROM {Event._meta.db_table} WHERE ticket_id = t.id),"
        f" {ADMIN_VERSION_SQL}, ({list_sql})"
        f" FROM {Ticket._meta.db_table} t WHERE t.id = %s",
        [*list_params, ticket.pk],
    )
    admin = _admin_version(admin, newest_agent)
    base = f"{ticket.pk}:{created_at}:{admin}"  # created_at: ids are reused after a database reset
    return {
        "thread_version": f"{base}:{updated_at}:{last_message}",
        "events_version": f"{base}:{last_event}",
        "page_version": f"{base}:{updated_at}:{last_message}:{last_event}:{revision}",
        "list_version": (newest_visible, admin),
    }

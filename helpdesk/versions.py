"""Versions of what cached page fragments show, read from the database so that every process agrees.

Services move a ticket's updated_at on every change to its state and add messages and events (events
are append-only). Edits outside the services happen in the admin, which writes a log entry for each
one; the newest entry's id versions everything the admin can change (customers, agents, teams,
tickets, messages). A cache key made of these values changes whenever the fragment's content does.

Plain SQL: these run on every page view, and building the same queries with the ORM costs more
than running them.
"""

from django.contrib.admin.models import LogEntry
from django.db import connection

from .models import Conversation, Event, Message, Ticket


def _one_row(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def admin_version():
    return _one_row(f"SELECT MAX(id) FROM {LogEntry._meta.db_table}")[0]


def fragment_versions(ticket):
    """Cache keys of the ticket page's thread and activity."""
    created_at, updated_at, last_message, last_event, admin = _one_row(
        f"SELECT created_at, updated_at,"
        f" (SELECT MAX(m.id) FROM {Message._meta.db_table} m JOIN {Conversation._meta.db_table} c"
        f"  ON m.conversation_id = c.id WHERE c.ticket_id = t.id),"
        f" (SELECT MAX(id) FROM {Event._meta.db_table} WHERE ticket_id = t.id),"
        f" (SELECT MAX(id) FROM {LogEntry._meta.db_table})"
        f" FROM {Ticket._meta.db_table} t WHERE t.id = %s",
        [ticket.pk],
    )
    base = f"{ticket.pk}:{created_at}:{admin}"  # created_at: ids are reused after a database reset
    return {"thread_version": f"{base}:{updated_at}:{last_message}", "events_version": f"{base}:{last_event}"}

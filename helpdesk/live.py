"""Live ticket pages: every change to a ticket is pushed to the agents viewing it.

The pushed HTML is the same fragment the page renders; htmx's ws extension swaps it in by id. A new
message is pushed alone, as an out-of-band append to the thread.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.dispatch import receiver

from .fragments import render_fragment, render_message
from .services import ticket_changed
from .versions import bump


def ticket_group(ticket_id):
    return f"ticket-{ticket_id}"


def push_html(ticket_id, html):
    if html:
        async_to_sync(get_channel_layer().group_send)(ticket_group(ticket_id), {"type": "ticket.html", "html": html})


def push_fragments(ticket_id, *whats):
    """Something on the ticket's page changed: renew its cached fragments and push these ones."""
    bump(ticket_id)
    push_html(ticket_id, "".join(render_fragment(ticket_id, what) for what in whats))


def push_message(ticket_id, message_id, message=None):
    """A message was added to the ticket's thread: push it alone, rendered once for every viewer
    (from `message` as stored, when the caller has it). A page that missed it catches up from the
    thread's data-refresh URL when it reconnects.
    No bump: the new message and updated_at already move every cached fragment's version."""
    push_html(ticket_id, render_message(ticket_id, message_id, message))


@receiver(ticket_changed)
def _push_changed_fragment(sender, ticket_id, what, message_id=None, message=None, **kwargs):
    if what == "thread" and message_id is not None:
        push_message(ticket_id, message_id, message)
    else:
        push_fragments(ticket_id, what)

"""Domain actions on tickets. Views, consumers and tasks call these; each writes its Event.

Every action runs in one transaction and raises ActionError (with a message meant for the
person who asked) when the request makes no sense; nothing is changed in that case.
"""

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from . import closing
from .events import Verb
from .models import Conversation, Customer, Event, Message, Ticket

MAX_MESSAGE_LENGTH = 20_000

# Sent on commit after any change to a ticket's thread or state, for live views; with what="thread",
# message_id names the message added and message, where the sender has it, is that message as stored.
ticket_changed = Signal()


class ActionError(Exception):
    """A domain action was refused; the message says why, in words for the user."""


def record(ticket, actor, verb, **data):
    """Append an event and run the event hooks (closing.py); `verb` is a helpdesk.events.Verb
    (a free string is a ValueError)."""
    event = Event.objects.create(ticket=ticket, actor=actor, verb=Verb(verb), data=data)
    closing.event_recorded(event)
    return event


def _notify_changed(ticket, what, **extra):
    transaction.on_commit(lambda: ticket_changed.send(sender=Ticket, ticket_id=ticket.pk, what=what, **extra))


def _touch(ticket, now=None):
    ticket.updated_at = now or timezone.now()


def storable_text(value):
    """Whether a database can store this text: no NUL character (PostgreSQL refuses it) and no
    lone surrogate (a JSON escape such as \\ud800 decodes to one; it has no UTF-8 encoding)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clean_body(body):
    body = (body or "").strip()
    if not body:
        raise ActionError("The message is empty.")
    if not storable_text(body):
        raise ActionError("The message contains a NUL character or an invalid one (a lone surrogate).")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise ActionError(f"The message is longer than {MAX_MESSAGE_LENGTH} characters.")
    return body


@transaction.atomic
def open_ticket(*, customer, subject, body, team, actor=None, priority=Ticket.Priority.NORMAL,
                channel=Ticket.Channel.EMAIL, assignee=None):
    subject = (subject or "").strip()
    if not subject:
        raise ActionError("The subject is empty.")
    if priority not in Ticket.Priority.values:
        raise ActionError(f"Unknown priority: {priority}.")
    body = _clean_body(body)
    ticket = Ticket.objects.create(
        subject=subject[:200], customer=customer, team=team, priority=priority, channel=channel,
        assignee=assignee,
    )
    conversation = Conversation.objects.create(ticket=ticket)
    kind = Message.Kind.AGENT if actor else Message.Kind.CUSTOMER
    Message.objects.create(conversation=conversation, kind=kind, author=actor, body=body)
    record(ticket, actor, Verb.OPENED, channel=channel)
    return ticket


@transaction.atomic
def reply(ticket, agent, body, *, internal=False):
    """An agent's reply to the customer, or an internal note (never shown to the customer)."""
    body = _clean_body(body)
    ticket = _locked_for_a_message(ticket)
    if ticket.is_closed and not internal:
        raise ActionError("This ticket is closed. Reopen it to reply to the customer.")
    kind = Message.Kind.NOTE if internal else Message.Kind.AGENT
    message = Message.objects.create(
        conversation=_conversation(ticket), kind=kind, author=agent, body=body
    )
    _touch(ticket, message.created_at)
    ticket.save(update_fields=["updated_at"])
    record(ticket, agent, Verb.NOTED if internal else Verb.REPLIED, message_id=message.pk)
    _notify_changed(ticket, "thread", message_id=message.pk, message=message)
    return message


@transaction.atomic
def customer_message(ticket, body, *, client_id=None):
    """A message from the customer; a repeated client_id returns the stored message unchanged."""
    body = _clean_body(body)
    ticket = _locked_for_a_message(ticket)
    conversation = _conversation(ticket)
    if client_id:
        existing = Message.objects.filter(conversation=conversation, client_id=client_id).first()
        if existing:
            return existing
    message = Message.objects.create(
        conversation=conversation, kind=Message.Kind.CUSTOMER, body=body, client_id=client_id
    )
    fields = ["updated_at"]
    if ticket.status == Ticket.Status.PENDING:
        ticket.status = Ticket.Status.OPEN
        fields.append("status")
    _touch(ticket, message.created_at)
    ticket.save(update_fields=fields)
    _notify_changed(ticket, "thread", message_id=message.pk, message=message)
    return message


@transaction.atomic
def assign(ticket, assignee, actor):
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if assignee is not None and not assignee.sees_all_teams and assignee.team_id != ticket.team_id:
        raise ActionError(f"{assignee} is not in the {ticket.team} team.")
    if ticket.assignee_id == (assignee.pk if assignee else None):
        raise ActionError("The ticket is already assigned that way.")
    previous = ticket.assignee
    ticket.assignee = assignee
    _touch(ticket)
    ticket.save(update_fields=["assignee", "updated_at"])
    record(
        ticket, actor, Verb.ASSIGNED,
        assignee=assignee.display_name if assignee else None,
        previous=previous.display_name if previous else None,
    )
    _notify_changed(ticket, "header")
    return ticket


@transaction.atomic
def set_pending(ticket, actor):
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status != Ticket.Status.OPEN:
        raise ActionError(f"Only an open ticket can be set to pending; this one is {ticket.get_status_display().lower()}.")
    ticket.status = Ticket.Status.PENDING
    _touch(ticket)
    ticket.save(update_fields=["status", "updated_at"])
    record(ticket, actor, Verb.STATUS_CHANGED, status=ticket.status)
    _notify_changed(ticket, "header")
    return ticket


@transaction.atomic
def close_ticket(ticket, actor, *, reason="agent"):
    """The one way a ticket closes; what closing does besides is in closing.py, in order."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.is_closed:
        raise ActionError("This ticket is already closed.")
    now = timezone.now()
    ticket.status = Ticket.Status.CLOSED
    ticket.closed_at = now
    _touch(ticket, now)
    ticket.save(update_fields=["status", "closed_at", "updated_at"])
    record(ticket, actor, Verb.CLOSED, reason=reason)
    closing.interaction_closed(ticket, actor, "ticket", reason)
    _notify_changed(ticket, "header")
    return ticket


def end_external_interaction(ticket, actor, *, source):
    """An interaction held elsewhere about this ticket (a call, an outside chat) ended: what is
    tied to it, such as co-browse sessions, ends too; the ticket itself stays as it is."""
    closing.interaction_closed(ticket, actor, "external", source)


@transaction.atomic
def reopen(ticket, actor):
    """Back to open, from closed (a reopen) or from pending."""
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == Ticket.Status.OPEN:
        raise ActionError("This ticket is already open.")
    was_closed = ticket.is_closed
    ticket.status = Ticket.Status.OPEN
    ticket.closed_at = None
    _touch(ticket)
    ticket.save(update_fields=["status", "closed_at", "updated_at"])
    if was_closed:
        record(ticket, actor, Verb.REOPENED)
    else:
        record(ticket, actor, Verb.STATUS_CHANGED, status=ticket.status)
    _notify_changed(ticket, "header")
    return ticket


def change_status(ticket, status, actor):
    """Dispatch a requested status to the action that performs it."""
    actions = {
        Ticket.Status.OPEN: reopen,
        Ticket.Status.PENDING: set_pending,
        Ticket.Status.CLOSED: close_ticket,
    }
    if status not in actions:
        raise ActionError(f"Unknown status: {status!r}.")
    return actions[status](ticket, actor)


def _locked_for_a_message(ticket):
    """The ticket, locked, with what a new message needs read in the same query: its conversation and
    (for the pushed message, helpdesk.live) its customer."""
    return Ticket.objects.select_for_update(of=("self",)).select_related("customer", "conversation").get(pk=ticket.pk)


def _conversation(ticket):
    try:
        return ticket.conversation
    except Conversation.DoesNotExist:
        conversation, _ = Conversation.objects.get_or_create(ticket=ticket)
        return conversation


def get_or_create_customer(user_id, *, site=None, name="", email=""):
    """The customer with this user_id in the namespace of this chat site (None: the helpdesk's own)."""
    customer, created = Customer.objects.get_or_create(
        site=site, user_id=user_id, defaults={"name": name or user_id, "email": email}
    )
    return customer


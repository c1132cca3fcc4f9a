"""Live chat actions. Consumers, views and tasks call these; each runs in one transaction.

A chat is the live channel of one ticket's conversation: the customer's first message opens the
ticket (channel "chat"), later messages go to the same thread until the chat closes.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from helpdesk import access, closing
from helpdesk import services as helpdesk
from helpdesk.events import Verb
from helpdesk.models import Conversation, Message, Ticket

from .models import Chat, ChatSite

ActionError = helpdesk.ActionError
# Sent on commit when a chat's state or the customer's presence changes (live queue, panel, widget).
chat_changed = Signal()
# What the widget may show: customer messages and agent replies, never internal notes.
CUSTOMER_VISIBLE = (Message.Kind.CUSTOMER, Message.Kind.AGENT)


def _notify(chat, what):
    data = {"chat_id": chat.pk, "ticket_id": chat.conversation.ticket_id, "team_id": chat.site.team_id,
            "site_id": chat.site_id, "customer_id": chat.customer_id, "state": chat.state,
            "reason": chat.close_reason, "what": what}
    transaction.on_commit(lambda: chat_changed.send(sender=Chat, **data))


def find_site(key):
    return ChatSite.objects.select_related("team").filter(key=str(key or "")[:50]).first()


def open_chat(site, customer):
    """The customer's chat on this site that is not closed, or None."""
    return (Chat.objects.select_related("conversation__ticket", "site")
            .filter(site=site, customer=customer).exclude(state=Chat.State.CLOSED).first())


def ticket_id_of(chat):
    return Conversation.objects.filter(pk=chat.conversation_id).values_list("ticket_id", flat=True).first()


def latest_chat(ticket):
    return Chat.objects.filter(conversation__ticket=ticket).select_related("site").order_by("-id").first()


def clean_body(body):
    if not isinstance(body, str):
        raise ActionError("The message must be text.")
    body = body.strip()
    limit = settings.CHAT_MAX_MESSAGE_CHARS
    if not body:
        raise ActionError("The message is empty.")
    if not helpdesk.storable_text(body):
        raise ActionError("The message contains a NUL character or an invalid one (a lone surrogate).")
    if len(body) > limit:
        raise ActionError(f"The message is longer than {limit} characters.")
    return body


def start_or_resume_chat(site, customer, body, *, client_id=None):
    """Post to the customer's open chat on this site, or open a ticket and a chat with this message.

    Returns (chat, message). A retry with the same client_id returns the stored message.
    """
    body = clean_body(body)
    for _ in range(2):
        chat = open_chat(site, customer)
        if chat is not None:
            return chat, post_customer_message(chat, body, client_id=client_id)
        try:
            return _start(site, customer, body, client_id)
        except IntegrityError:
            continue  # another connection of this customer opened it first: post to that one
    raise ActionError("The chat could not be started; please try again.")


@transaction.atomic
def _start(site, customer, body, client_id):
    subject = body.splitlines()[0][:80] or "Live chat"
    ticket = helpdesk.open_ticket(customer=customer, subject=f"Chat: {subject}", body=body, team=site.team,
                                  channel=Ticket.Channel.CHAT)
    message = ticket.conversation.messages.get()
    if client_id:
        message.client_id = client_id
        message.save(update_fields=["client_id"])
    now = timezone.now()
    chat = Chat.objects.create(site=site, customer=customer, conversation=ticket.conversation,
                               customer_connections=1, customer_seen_at=now)
    helpdesk.record(ticket, None, Verb.CHAT_STARTED, chat_id=chat.pk, site=site.key)
    transaction.on_commit(lambda: helpdesk.ticket_changed.send(sender=Ticket, ticket_id=ticket.pk, what="thread"))
    _notify(chat, "started")
    return chat, message


def post_customer_message(chat, body, *, client_id=None):
    body = clean_body(body)
    # Read before the message's own transaction: in one with it, the read would lock nothing more (a
    # close that commits after the read is not seen either way) and cost two savepoint round trips.
    state = Chat.objects.filter(pk=chat.pk).values_list("state", flat=True).first()
    if state in (None, Chat.State.CLOSED):
        raise ActionError("This chat is closed. Start a new chat to write again.")
    return helpdesk.customer_message(chat.conversation.ticket, body, client_id=client_id)


def messages_after(chat, last_id, limit=500):
    """The customer-visible messages of the chat after the message id the client last saw."""
    qs = Message.objects.filter(conversation_id=chat.conversation_id, kind__in=CUSTOMER_VISIBLE)
    if last_id:
        qs = qs.filter(pk__gt=last_id)
    return list(qs.select_related("author").order_by("id")[:limit])


@transaction.atomic
def close_chat(chat, actor, reason):
    """The one way a chat closes: marked closed, an Event, and the close hooks (kind "chat",
    helpdesk/closing.py), which enqueue their work in this same transaction."""
    chat = Chat.objects.select_for_update().select_related("conversation__ticket", "site").get(pk=chat.pk)
    if chat.is_closed:
        raise ActionError("This chat is already closed.")
    _mark_closed(chat, actor, reason)
    closing.interaction_closed(chat.ticket, actor, "chat", reason)
    return chat


def _mark_closed(chat, actor, reason):
    chat.state = Chat.State.CLOSED
    chat.closed_at = timezone.now()
    chat.close_reason = reason
    chat.save(update_fields=["state", "closed_at", "close_reason"])
    helpdesk.record(chat.ticket, actor, Verb.CHAT_CLOSED, chat_id=chat.pk, reason=reason)
    _notify(chat, "closed")


def close_chat_with_its_ticket(ticket, actor, kind, reason):
    """A close hook (closing.py): a closed ticket closes its open chat too, without running the
    close hooks again (the ticket's already run)."""
    if kind != "ticket":
        return
    for chat in Chat.objects.select_for_update().select_related("conversation__ticket", "site").filter(
            conversation__ticket=ticket).exclude(state=Chat.State.CLOSED):
        _mark_closed(chat, actor, "ticket_closed")


@transaction.atomic
def take_chat(chat, agent):
    """Assign the chat's ticket to this agent (as for tickets) and make the chat active."""
    chat = Chat.objects.select_for_update().select_related("conversation__ticket", "site").get(pk=chat.pk)
    if chat.is_closed:
        raise ActionError("This chat is already closed.")
    if chat.ticket.assignee_id != agent.pk:
        helpdesk.assign(chat.ticket, agent, agent)
    if chat.state == Chat.State.WAITING:
        chat.state = Chat.State.ACTIVE
        chat.save(update_fields=["state"])
        _notify(chat, "taken")
    return chat


@transaction.atomic
def activate_if_assigned(ticket_id):
    """A waiting chat whose ticket got an assignee (from the ticket page) is no longer waiting."""
    chat = (Chat.objects.select_for_update().select_related("conversation__ticket", "site")
            .filter(conversation__ticket_id=ticket_id, state=Chat.State.WAITING,
                    conversation__ticket__assignee__isnull=False).first())
    if chat:
        chat.state = Chat.State.ACTIVE
        chat.save(update_fields=["state"])
        _notify(chat, "taken")


# --- presence and the grace period ----------------------------------------------------------------

@transaction.atomic
def customer_connected(chat):
    chat = Chat.objects.select_for_update().select_related("conversation", "site").get(pk=chat.pk)
    chat.customer_connections += 1
    chat.customer_seen_at = timezone.now()
    chat.customer_left_at = None
    chat.save(update_fields=["customer_connections", "customer_seen_at", "customer_left_at"])
    _notify(chat, "presence")
    return chat


@transaction.atomic
def customer_disconnected(chat, *, now=None):
    """One widget connection left; when it was the last, close after the grace period unless the
    customer comes back (a durable task, so a restart does not forget it)."""
    from .tasks import close_if_customer_gone

    now = now or timezone.now()
    chat = Chat.objects.select_for_update().select_related("conversation", "site").get(pk=chat.pk)
    if chat.is_closed:
        return chat
    chat.customer_connections = max(0, chat.customer_connections - 1)
    chat.customer_seen_at = now
    if chat.customer_connections == 0:
        chat.customer_left_at = now
        grace = timedelta(seconds=settings.CHAT_GRACE_SECONDS)
        close_if_customer_gone.using(run_after=now + grace).enqueue(chat.pk)
    chat.save(update_fields=["customer_connections", "customer_seen_at", "customer_left_at"])
    _notify(chat, "presence")
    return chat


def customer_still_here(chat, *, now=None):
    """A heartbeat from one of the customer's widgets."""
    now = now or timezone.now()
    still_open = Chat.objects.filter(pk=chat.pk).exclude(state=Chat.State.CLOSED)
    if still_open.filter(customer_connections__gt=0).update(customer_seen_at=now):
        return
    with transaction.atomic():
        chat = still_open.select_for_update().select_related("conversation", "site").first()
        if chat is None or chat.customer_connections > 0:
            return
        # Marked gone by sweep_presence while this connection lived on (its heartbeats came late):
        # the customer is back, and the grace close will find them here.
        chat.customer_connections, chat.customer_seen_at, chat.customer_left_at = 1, now, None
        chat.save(update_fields=["customer_connections", "customer_seen_at", "customer_left_at"])
        _notify(chat, "presence")


def sweep_presence(*, now=None):
    """Mark gone the customers still counted as connected whose widgets have sent no heartbeat for
    CHAT_PRESENCE_TIMEOUT_SECONDS: their connections ended without a disconnect (a killed
    process). The grace period then runs from the last heartbeat. Returns how many were marked."""
    from .tasks import close_if_customer_gone

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CHAT_PRESENCE_TIMEOUT_SECONDS)
    stale = Chat.objects.exclude(state=Chat.State.CLOSED).filter(customer_connections__gt=0, customer_seen_at__lt=cutoff)
    marked = 0
    for chat_id in stale.values_list("pk", flat=True):
        with transaction.atomic():
            chat = Chat.objects.select_for_update().select_related("conversation", "site").get(pk=chat_id)
            if chat.is_closed or chat.customer_connections == 0 or chat.customer_seen_at >= cutoff:
                continue  # changed meanwhile
            chat.customer_connections = 0
            chat.customer_left_at = chat.customer_seen_at
            run_after = max(now, chat.customer_left_at + timedelta(seconds=settings.CHAT_GRACE_SECONDS))
            close_if_customer_gone.using(run_after=run_after).enqueue(chat.pk)
            chat.save(update_fields=["customer_connections", "customer_left_at"])
            _notify(chat, "presence")
            marked += 1
    return marked


def close_if_customer_gone(chat_id, *, now=None):
    """Close the chat if the customer has been gone longer than the grace period. Returns True if closed."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.CHAT_GRACE_SECONDS)
    with transaction.atomic():
        chat = Chat.objects.select_for_update().filter(pk=chat_id).first()
        if (chat is None or chat.is_closed or chat.customer_connections > 0 or chat.customer_left_at is None
                or now - chat.customer_left_at < grace):
            return False
        close_chat(chat, None, "customer_gone")
    return True


# --- the agents' queue --------------------------------------------------------------------------

def waiting_chats(agent):
    return (access.visible_chats(agent).filter(state=Chat.State.WAITING)
            .select_related("customer", "site", "conversation__ticket").order_by("created_at", "id"))


def active_chats(agent):
    return (access.visible_chats(agent).filter(state=Chat.State.ACTIVE, conversation__ticket__assignee=agent)
            .select_related("customer", "site", "conversation__ticket").order_by("created_at", "id"))

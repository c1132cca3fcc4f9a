"""Chat fan-out over the channel layer (Redis when REDIS_URL is set, so it crosses processes).

Groups: one per open chat (keyed by site and customer, so every tab of the customer joins it even
before the chat exists), and the agents' queue per team plus one for supervisors and admins.
Events carry ids only; each consumer reads what it may show from the database.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.dispatch import receiver

from helpdesk.live import push_fragments
from helpdesk.services import ticket_changed

from . import services
from .models import Chat


def chat_group(site_id, customer_id):
    return f"chat-{site_id}-{customer_id}"


def queue_group(team_id=None):
    return f"chat-queue-team-{team_id}" if team_id else "chat-queue-all"


def _send(group, event):
    async_to_sync(get_channel_layer().group_send)(group, event)


@receiver(ticket_changed)
def _ticket_changed(sender, ticket_id, what, **kwargs):
    if what == "header":
        services.activate_if_assigned(ticket_id)
    if what != "thread":
        return
    chat = Chat.objects.filter(conversation__ticket_id=ticket_id).exclude(state=Chat.State.CLOSED).first()
    if chat:
        _send(chat_group(chat.site_id, chat.customer_id), {"type": "chat.sync", "chat_id": chat.pk})


@receiver(services.chat_changed)
def _chat_changed(sender, chat_id, ticket_id, team_id, site_id, customer_id, state, reason, what, **kwargs):
    _send(chat_group(site_id, customer_id), {"type": "chat.state", "chat_id": chat_id, "state": state,
                                             "reason": reason})
    if what != "presence":
        for group in (queue_group(team_id), queue_group()):
            _send(group, {"type": "queue.changed"})
    push_fragments(ticket_id, "chat")

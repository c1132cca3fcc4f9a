"""Websocket consumers of the helpdesk."""

import asyncio

from channels.db import database_sync_to_async
from django.utils import timezone

from . import access
from .agent_sockets import AgentSocket
from .fragments import render_fragment
from .live import ticket_group
from .models import TicketViewer
from .versions import bump

VIEWER_TOUCH_SECONDS = 60


@database_sync_to_async
def _join(ticket_id, agent, channel_name):
    TicketViewer.objects.create(ticket_id=ticket_id, agent=agent, channel_name=channel_name)
    bump(ticket_id)
    return render_fragment(ticket_id, "viewers")


@database_sync_to_async
def _touch(channel_name):
    TicketViewer.objects.filter(channel_name=channel_name).update(seen_at=timezone.now())


@database_sync_to_async
def _leave(ticket_id, channel_name):
    TicketViewer.objects.filter(channel_name=channel_name).delete()
    bump(ticket_id)
    return render_fragment(ticket_id, "viewers")


class TicketConsumer(AgentSocket):
    """An agent's ticket page: receives the page's fragments whenever the ticket changes, and
    tells the other viewers who is looking at the ticket. Closes when its agent loses the ticket."""

    @classmethod
    def allowed_among(cls, agent, sockets):
        visible = set(access.visible_tickets(agent, pk__in={s.ticket_id for s in sockets}).values_list("pk", flat=True))
        return [s for s in sockets if s.ticket_id in visible]

    async def connect(self):
        self.ticket_id = int(self.scope["url_route"]["kwargs"]["ticket_id"])
        self.group = None
        self.toucher = None
        agent = await self.authorize()
        if agent is None:
            await self.close(code=4403)
            return
        self.group = ticket_group(self.ticket_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._tell_viewers(await _join(self.ticket_id, agent, self.channel_name))
        self.toucher = asyncio.ensure_future(self._keep_seen())

    async def _keep_seen(self):
        while True:
            await asyncio.sleep(VIEWER_TOUCH_SECONDS)
            await _touch(self.channel_name)

    async def disconnect(self, code):
        if self.toucher:
            self.toucher.cancel()
        await self.leave()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self._tell_viewers(await _leave(self.ticket_id, self.channel_name))

    async def _tell_viewers(self, html):
        await self.channel_layer.group_send(self.group, {"type": "ticket.html", "html": html})

    async def receive(self, text_data=None, bytes_data=None):
        # The page sends nothing that needs an answer; actions go through HTTP (CSRF, forms).
        pass

    async def dispatch(self, message):
        # A push forwards ready HTML: it skips Channels' close_old_connections before each handler,
        # a hop into the one database thread that queues every viewer's push behind the database
        # work of the process (the message being posted). A recheck hops there itself.
        if message.get("type") == "ticket.html":
            return await self.ticket_html(message)
        return await super().dispatch(message)

    async def ticket_html(self, event):
        if await self.may_push():
            await self.send(text_data=event["html"])

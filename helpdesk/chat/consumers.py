"""The chat widget's websocket (any origin: the site's allowed origins are checked at hello),
and the agents' live queue."""

import asyncio
import json
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.template.loader import render_to_string

from helpdesk import services as helpdesk
from helpdesk.agent_sockets import RECONNECT_CODE, AgentSocket
from helpdesk.live import ticket_group
from helpdesk.ops.metrics import CountedSocket
from helpdesk.secret_store import SecretUnavailable

from . import identity, services
from .limits import TokenBucket, connection_counter
from .live import chat_group, queue_group
from .protocol import FATAL, FrameError, error, message_frame, read


TYPING_INTERVAL = 1.0  # seconds between two typing notices sent to the agents
HEARTBEAT_INTERVAL = 20.0  # seconds between two heartbeats written for one connection

logger = logging.getLogger(__name__)


def _origin(scope):
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return value.decode("latin1")
    return ""


@database_sync_to_async
def _identify(origin, hello):
    """(site, customer) for a hello frame, or raise IdentityError."""
    site = services.find_site(hello.get("site"))
    if site is None:
        raise identity.IdentityError("unknown_site", "This site is not registered with the helpdesk.")
    if not site.allows_origin(origin):
        raise identity.IdentityError("origin_not_allowed", f"The origin {origin or '(none)'} may not use this site's chat.")
    try:
        secret = site.secret
    except SecretUnavailable:
        logger.error("Chat site %s (id %s): its secret cannot be decrypted, identities cannot be verified", site.key, site.pk)
        raise identity.IdentityError(
            "site_unavailable", "This site's chat is unavailable: the helpdesk cannot verify its identities "
                                "until an admin rotates the site's secret.") from None
    user_id = identity.verify(secret, hello.get("user_id"), hello.get("expires"), hello.get("signature"))
    name = hello.get("name") if isinstance(hello.get("name"), str) and helpdesk.storable_text(hello["name"]) else ""
    return site, helpdesk.get_or_create_customer(user_id, site=site, name=name.strip()[:150])


class WidgetConsumer(CountedSocket, AsyncWebsocketConsumer):
    clock = staticmethod(time.monotonic)  # tests replace it to drive the rate limit
    socket_kind = "widget"

    async def connect(self):
        self.site = self.customer = self.chat = self.group = None
        self.last_id = 0
        self.typing_ticket_id, self.last_typing, self.last_heartbeat = None, None, None
        self.bucket = TokenBucket(settings.CHAT_RATE_MESSAGES, settings.CHAT_RATE_PERIOD_SECONDS, self.clock)
        self.held, self.hello_task = [], None
        # A timer handle, not a task, while waiting: an idle socket should cost as little as possible.
        self.hello_timer = asyncio.get_running_loop().call_later(settings.CHAT_HELLO_TIMEOUT_SECONDS, self._hello_late)
        await self.accept()
        address = (self.scope.get("client") or (None,))[0]
        if address:
            await self._hold(f"address:{address}", settings.CHAT_MAX_CONNECTIONS_PER_ADDRESS, "address")

    def _hello_late(self):
        self.hello_timer = None
        self.hello_task = asyncio.ensure_future(self._refuse(
            "hello_timeout", f"No hello within {settings.CHAT_HELLO_TIMEOUT_SECONDS:g} s of connecting."))

    async def _refuse(self, code, text, **extra):
        await self.send_json(error(code, text, **extra))
        await self.close(code=FATAL[code])

    async def _hold(self, key, limit, name):
        """Take one of the limit connection places of key (0: no limit), or refuse this connection."""
        if not limit:
            return True
        try:
            held = await connection_counter().acquire(key, self.channel_name, limit)
        except Exception:  # the counter's Redis is unreachable: the chat still works, uncounted
            logger.warning("chat connection limit not checked (%s): counter unavailable", name, exc_info=True)
            return True
        if held:
            self.held.append(key)
            return True
        await self._refuse("too_many_connections", f"Too many open chat connections for this {name} (at most {limit}).",
                           limit=name, max=limit)
        return False

    def _hello_in_time(self):
        if self.hello_timer is not None:
            self.hello_timer.cancel()
            self.hello_timer = None

    async def _release(self):
        self._hello_in_time()
        held, self.held = self.held, []
        for key in held:
            try:
                await connection_counter().release(key, self.channel_name)
            except Exception:  # in Redis it goes stale and drops out by itself
                logger.warning("chat connection place not released", exc_info=True)

    async def disconnect(self, code):
        await self._release()
        if self.hello_task is not None and self.hello_task is not asyncio.current_task():
            self.hello_task.cancel()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.chat is not None:
            await database_sync_to_async(services.customer_disconnected)(self.chat)

    async def send_json(self, frame):
        await self.send(text_data=json.dumps(frame))

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            return await self.send_json(error("bad_frame", "Frames must be JSON text."))
        try:
            kind, frame = read(text_data, settings.CHAT_MAX_FRAME_BYTES)
        except FrameError as exc:
            await self.send_json(error(exc.code, exc.text, **exc.extra))
            if exc.code in FATAL:
                await self.close(code=FATAL[exc.code])
            return
        handler = {"hello": self.on_hello, "resume": self.on_hello, "message": self.on_message,
                   "close": self.on_close, "typing": self.on_typing, "ping": self.on_ping}[kind]
        if self.customer is None and kind not in ("hello", "resume", "ping"):
            return await self.send_json(error("hello_first", "Send a hello frame with the signed identity first."))
        await handler(frame)

    # --- frames from the widget -----------------------------------------------------------------

    async def on_hello(self, frame):
        if self.customer is not None:
            return await self.send_json(error("already_identified", "This connection has already said hello."))
        try:
            self.site, self.customer = await _identify(_origin(self.scope), frame)
        except identity.IdentityError as exc:
            logger.warning("chat hello refused origin=%r code=%s: %s", _origin(self.scope)[:200], exc.code, exc.message)
            await self.send_json(error(exc.code, exc.message))
            return await self.close(code=FATAL.get(exc.code, 4401))
        self._hello_in_time()
        if not await self._hold(f"identity:{self.site.pk}:{self.customer.pk}",
                                settings.CHAT_MAX_CONNECTIONS_PER_IDENTITY, "identity"):
            self.site = self.customer = None
            return
        last_seen = frame.get("last_seen")
        self.last_id = last_seen if isinstance(last_seen, int) and last_seen > 0 else 0
        self.group = chat_group(self.site.pk, self.customer.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        chat = await database_sync_to_async(services.open_chat)(self.site, self.customer)
        if chat is not None:
            await self._attach(chat)
        await self.send_json({
            "type": "welcome", "chat": self._chat_info(), "customer": {"name": self.customer.name},
            "limits": {"max_chars": settings.CHAT_MAX_MESSAGE_CHARS, "rate": settings.CHAT_RATE_MESSAGES,
                       "per_seconds": settings.CHAT_RATE_PERIOD_SECONDS},
        })
        await self.send_json({"type": "history", "messages": await self._new_messages()})

    async def on_message(self, frame):
        client_id, body = frame["client_id"], frame["body"]  # shape checked by protocol.read
        if len(body.strip()) > settings.CHAT_MAX_MESSAGE_CHARS:
            return await self.send_json(error(
                "too_long", f"The message is longer than {settings.CHAT_MAX_MESSAGE_CHARS} characters.", client_id=client_id))
        wait = self.bucket.take()
        if wait:
            return await self.send_json(error(
                "rate_limited", f"Too many messages; wait {wait:.0f} s.", client_id=client_id, retry_after=round(wait, 1)))
        try:
            if self.chat is None:
                chat, message = await database_sync_to_async(services.start_or_resume_chat)(
                    self.site, self.customer, body, client_id=client_id)
                await self._attach(chat, counted=True)
            else:
                message = await database_sync_to_async(services.post_customer_message)(
                    self.chat, body, client_id=client_id)
        except services.ActionError as exc:
            return await self.send_json(error("refused", str(exc), client_id=client_id))
        # The message itself follows with the chat.sync its commit sent to this socket's group too.
        await self.send_json({"type": "ack", "client_id": client_id, "id": message.pk})

    async def on_close(self, frame):
        if self.chat is None:
            return await self.send_json(error("no_chat", "There is no open chat to close."))
        try:
            await database_sync_to_async(services.close_chat)(self.chat, None, "customer")
        except services.ActionError as exc:
            await self.send_json(error("refused", str(exc)))

    async def on_typing(self, frame):
        """Tell the agents on the chat's ticket, at most once a second; never answered."""
        now = self.clock()
        if self.chat is None or (self.last_typing is not None and now - self.last_typing < TYPING_INTERVAL):
            return
        self.last_typing = now
        if self.typing_ticket_id is None or self.typing_ticket_id[0] != self.chat.pk:
            self.typing_ticket_id = (self.chat.pk, await database_sync_to_async(services.ticket_id_of)(self.chat))
        html = render_to_string("chat/_typing.html", {"name": self.customer.name})
        await self.channel_layer.group_send(ticket_group(self.typing_ticket_id[1]), {"type": "ticket.html", "html": html})

    async def on_ping(self, frame):
        """The widget's heartbeat (every 30 s): the customer is still here."""
        now = self.clock()
        if self.chat is not None and (self.last_heartbeat is None or now - self.last_heartbeat >= HEARTBEAT_INTERVAL):
            self.last_heartbeat = now
            await database_sync_to_async(services.customer_still_here)(self.chat)
        await self.send_json({"type": "pong"})

    # --- events from the channel layer ----------------------------------------------------------

    async def chat_sync(self, event):
        if self.chat is None:
            chat = await database_sync_to_async(services.open_chat)(self.site, self.customer)
            if chat is None:
                return
            await self._attach(chat)
        await self._send_new_messages()

    async def chat_state(self, event):
        if self.chat is not None and event["chat_id"] != self.chat.pk:
            return
        if event["state"] == "closed":
            if self.chat is not None:
                await self._send_new_messages()
                self.chat = None
                await self.send_json({"type": "closed", "chat_id": event["chat_id"], "reason": event["reason"]})
            return
        if self.chat is None:
            chat = await database_sync_to_async(services.open_chat)(self.site, self.customer)
            if chat is not None and chat.pk == event["chat_id"]:
                await self._attach(chat)
                await self._send_new_messages()
        else:
            self.chat.state = event["state"]
        await self.send_json({"type": "state", "chat": self._chat_info()})

    # --- helpers --------------------------------------------------------------------------------

    def _chat_info(self):
        return {"id": self.chat.pk, "state": self.chat.state} if self.chat else None

    async def _attach(self, chat, counted=False):
        """This connection now follows the chat (and counts as the customer being present)."""
        if not counted:
            chat = await database_sync_to_async(services.customer_connected)(chat)
        self.chat = chat

    async def _new_messages(self):
        if self.chat is None:
            return []
        messages = await database_sync_to_async(services.messages_after)(self.chat, self.last_id)
        if messages:
            self.last_id = messages[-1].pk
        return [message_frame(m, self.customer.name) for m in messages]

    async def _send_new_messages(self):
        for frame in await self._new_messages():
            await self.send_json(frame)


@database_sync_to_async
def _render_queue(agent):
    return render_to_string("chat/_queue.html", {"waiting": list(services.waiting_chats(agent)),
                                                 "mine": list(services.active_chats(agent)), "live": True})


class QueueConsumer(AgentSocket):
    """An agent's /chats/ page: the queue fragment is pushed whenever a chat of theirs changes."""

    def still_allowed(self, agent):
        return True  # every agent has a queue

    async def rechecked(self, agent):
        # Its groups follow the agent's team and role: after a change the page reconnects to the new ones.
        if (agent.sees_all_teams, agent.team_id) != (self.agent.sees_all_teams, self.agent.team_id):
            await self._revoke(code=RECONNECT_CODE)
            return False
        return True

    async def connect(self):
        self.groups_joined = []
        self.agent = await self.authorize()
        if self.agent is None:
            return await self.close(code=4403)
        if self.agent.sees_all_teams:
            self.groups_joined = [queue_group()]
        elif self.agent.team_id:
            self.groups_joined = [queue_group(self.agent.team_id)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.leave()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        pass

    async def queue_changed(self, event):
        if await self.may_push():
            await self.send(text_data=await _render_queue(self.agent))

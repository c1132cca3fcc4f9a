"""Agent websockets keep being authorized for as long as they are open, not only when they connect.

Every agent socket joins its user's group. Signing out closes that session's sockets; deactivating
or deleting the user closes all of them; any change to the agent profile (team, role), a new
password, or a ticket moved to another team makes each socket concerned check again and close if
its user may no longer see what it shows (code 4403).

Those messages can be lost (a full channel layer drops them), so pushes are also checked before
they are sent: the socket asks the database again when the user's access generation (in the cache,
moved by the same changes, read at most every GENERATION_SECONDS) differs from the one it last
checked, or RECHECK_SECONDS after its last check. A burst of pushes thus costs a socket one cache
read a second, not one per push (a cache read is a thread hop: per push and socket, it doubled the
fan-out's p99). RECHECK_SECONDS bounds what moves no generation: with a per-process cache (no
REDIS_CACHE_URL) a change made in another process, 5 s; with a shared cache only what bypasses the
models' signals (a session that expires, a bulk update), 30 s.

A socket that pushed lately is "hot": one task per process reads the generations of all hot sockets
in one cache read every TICK_SECONDS and rechecks those about to be due together, in one hop into the
database thread (each signed-in session read once, each kind of socket's access asked in one query
per agent), so that their pushes (a busy chat's messages to every agent watching) find both fresh
and cost no await at all. The rule for a push is the same either way; a late task only means
may_push reads or rechecks itself.
"""

import asyncio
import hashlib
import logging
import time
import uuid
import weakref
from importlib import import_module
from types import SimpleNamespace
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync, sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from . import access
from .auth_backend import AgentModelBackend
from .live import ticket_group
from .models import Agent, Ticket
from .ops.metrics import CountedSocket

RECHECK_SECONDS = 5.0 if settings.CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache")) else 30.0
GENERATION_SECONDS = 1.0
TICK_SECONDS = GENERATION_SECONDS / 2
HOT_SECONDS = 30.0
CLOSE_CODE = 4403  # access lost: the page's ws extension does not reconnect
RECONNECT_CODE = 1012  # "service restart": the page reconnects (and is authorized afresh)


logger = logging.getLogger(__name__)


def user_group(user_id):
    return f"user-{user_id}"


def _generation_key(user_id):
    return f"agent-access-generation:{user_id}"


def _session_tag(session_key):
    """Names a session in channel-layer messages without carrying the key itself."""
    return hashlib.sha256(f"agent-socket:{session_key}".encode()).hexdigest()[:32] if session_key else None


# --- announcing changes (sync: signals, views, the admin) -----------------------------------------

def _send(user_id, event):
    async_to_sync(get_channel_layer().group_send)(user_group(user_id), event)


def _announce(user_id, event):
    """After the change commits: move the generation (what pushes check) and tell the sockets."""
    def announce():
        cache.set(_generation_key(user_id), uuid.uuid4().hex, 86400)
        _send(user_id, event)

    transaction.on_commit(announce)


def close_sockets(user_id, session_key=None):
    """Close the user's agent sockets (only those of this session, if given)."""
    _announce(user_id, {"type": "access.revoked", "session": _session_tag(session_key)})


def recheck_sockets(user_id):
    """The user's access may have changed: each of their sockets checks again."""
    _announce(user_id, {"type": "access.changed"})


@receiver(user_logged_out)
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        close_sockets(user.pk, getattr(getattr(request, "session", None), "session_key", None))


@receiver(post_save, sender=get_user_model())
def _user_saved(sender, instance, created, update_fields=None, **kwargs):
    if created:
        return
    if not instance.is_active:
        close_sockets(instance.pk)
    elif update_fields is None or {"password", "is_active"} & set(update_fields):
        recheck_sockets(instance.pk)  # a new password ends the other sessions


@receiver(post_save, sender=Agent)
def _agent_saved(sender, instance, created, **kwargs):
    if not created:
        recheck_sockets(instance.user_id)


@receiver(post_delete, sender=Agent)  # also when the user is deleted (cascade)
def _agent_deleted(sender, instance, **kwargs):
    close_sockets(instance.user_id)


@receiver(post_save, sender=Ticket)
def _ticket_saved(sender, instance, created, update_fields=None, **kwargs):
    """A ticket may have moved to another team (the services never change it; the admin may):
    its viewers check again."""
    if not created and (update_fields is None or "team" in update_fields):
        group = ticket_group(instance.pk)
        transaction.on_commit(lambda: async_to_sync(get_channel_layer().group_send)(group, {"type": "access.changed"}))


# --- keeping hot sockets checked ahead of their pushes ----------------------------------------------

_hot = weakref.WeakSet()
_keeper = None


def _keep_checked(socket):
    global _keeper
    socket.hot_until = socket.clock() + HOT_SECONDS
    socket.hot_loop = asyncio.get_running_loop()
    _hot.add(socket)
    if _keeper is None or _keeper.done() or _keeper.get_loop() is not socket.hot_loop:
        _keeper = asyncio.ensure_future(_keep_hot_sockets_checked())


def _read_generations(keys):
    return cache.get_many(keys)  # one thread hop and one round trip (aget_many makes one per key)


async def _keep_hot_sockets_checked():
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(TICK_SECONDS)
        sockets = [s for s in list(_hot) if s.hot_loop is loop]
        for s in sockets:
            if s.revoked or s.clock() >= s.hot_until:
                _hot.discard(s)
        sockets = [s for s in sockets if s in _hot]
        if not sockets:
            return
        try:
            read_at = AgentSocket.clock()
            generations = await sync_to_async(_read_generations, thread_sensitive=False)(
                {_generation_key(s.user_id) for s in sockets})
            due = []
            for s in sockets:
                if s.revoked:
                    continue
                if (generations.get(_generation_key(s.user_id)) != s.generation
                        or read_at - s.checked_at >= RECHECK_SECONDS - 2 * TICK_SECONDS):
                    due.append(s)
                else:
                    s.generation_read_at = max(s.generation_read_at, read_at)
            if due:
                for s, (agent, generation) in zip(due, await _check_many(due)):
                    if not s.revoked:
                        await s._checked(agent, generation)
        except Exception:
            logger.exception("keeping the hot agent sockets checked failed; their pushes check inline")


# --- checking (sync, in the database thread) -----------------------------------------------------

def current_agent(user_id, session_key=None):
    """The agent behind a socket as of now: None once signed out, deactivated, deleted or without a
    profile. With a session, Django's own rules decide (session present, same user, password hash)."""
    if session_key is not None:
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        user = auth.get_user(SimpleNamespace(session=store))
        if user.pk != user_id:
            return None
    else:
        user = AgentModelBackend().get_user(user_id)
    return access.agent_of(user)


@database_sync_to_async
def _check_many(sockets):
    """[(agent or None, generation read before it)] for these sockets, in one database round: every
    (user, session) read once, every kind of socket asked once per agent."""
    generations = cache.get_many({_generation_key(s.user_id) for s in sockets})
    agents = {}
    for s in sockets:
        if (s.user_id, s.session_key) not in agents:
            agents[s.user_id, s.session_key] = current_agent(s.user_id, s.session_key)
    askers = {}
    for s in sockets:
        if agents[s.user_id, s.session_key] is not None:
            askers.setdefault((type(s), s.user_id, s.session_key), []).append(s)
    allowed = set()
    for (kind, user_id, session_key), members in askers.items():
        allowed.update(kind.allowed_among(agents[user_id, session_key], members))
    return [(agents[s.user_id, s.session_key] if s in allowed else None, generations.get(_generation_key(s.user_id)))
            for s in sockets]


class AgentSocket(CountedSocket, AsyncWebsocketConsumer):
    """Base of the agents' websockets. Subclasses call authorize() in connect(), leave() in
    disconnect(), guard each push with `if await self.may_push():`, and say what access means for
    them in still_allowed() or, to answer for many sockets in one query, allowed_among() (and,
    optionally, what else a fresh read changes in rechecked())."""

    clock = staticmethod(time.monotonic)
    socket_kind = "agent"

    def still_allowed(self, agent):
        """Sync, in the database thread: whether this (freshly read) agent may keep this socket."""
        raise NotImplementedError

    @classmethod
    def allowed_among(cls, agent, sockets):
        """Sync: which of these sockets (all this agent's, of this class) it may keep. One query for
        all of them where the class can ask so."""
        return [s for s in sockets if s.still_allowed(agent)]

    async def authorize(self):
        """The agent of this socket, or None (then close). Joins the user's group."""
        self.user_id, self.revoked = None, False
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        self.user_id = getattr(self.scope.get("user"), "pk", None)
        if self.user_id is None:
            return None
        [(agent, generation)] = await _check_many([self])
        if agent is None:
            self.user_id = None
            return None
        self.generation = generation
        self.checked_at = self.generation_read_at = self.clock()
        await self.channel_layer.group_add(user_group(self.user_id), self.channel_name)
        return agent

    async def leave(self):
        _hot.discard(self)
        if getattr(self, "user_id", None) is not None:
            await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)

    async def may_push(self):
        """Whether to send a push now; closes the socket when its user lost access."""
        if self.revoked:
            return False
        now = self.clock()
        if now - self.generation_read_at >= GENERATION_SECONDS:
            self.generation_read_at = now
            if await cache.aget(_generation_key(self.user_id)) != self.generation:
                return await self._recheck()
        if now - self.checked_at >= RECHECK_SECONDS and not await self._recheck():
            return False
        _keep_checked(self)
        return True

    async def _recheck(self):
        [(agent, generation)] = await _check_many([self])
        return await self._checked(agent, generation)

    async def _checked(self, agent, generation):
        """Act on a fresh check: keep pushing (True), or close."""
        self.generation = generation
        self.checked_at = self.generation_read_at = self.clock()
        if agent is None:
            await self._revoke()
            return False
        return await self.rechecked(agent)

    async def rechecked(self, agent):
        """The agent as read again, still allowed: whether to keep pushing (False after closing)."""
        return True

    async def _revoke(self, code=CLOSE_CODE):
        if not self.revoked:
            self.revoked = True
            await self.close(code=code)

    async def access_revoked(self, event):
        if event.get("session") is None or event["session"] == _session_tag(self.session_key):
            await self._revoke()

    async def access_changed(self, event):
        if not self.revoked:
            await self._recheck()


# --- origin -------------------------------------------------------------------------------------

def origin_allowed(origin, host):
    """Whether a page of `origin` may open an agent socket on `host` (the Host header; "" if absent).

    The rule of Django's CSRF check for a form: the socket's own host and port, or one of
    CSRF_TRUSTED_ORIGINS. Channels' AllowedHostsOriginValidator compares host names only, and a
    browser sends the session cookie to every port of the host, so a page served by another
    service on another port could otherwise open a signed-in socket. The scheme is not compared:
    behind the TLS proxy daphne sees ws://. A client that sends no Host is no browser (the Origin
    then only has to name an allowed host)."""
    parsed = urlsplit(origin)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS or any(
        "*" in trusted and parsed.scheme == urlsplit(trusted).scheme
        and is_same_domain(parsed.netloc, urlsplit(trusted).netloc.lstrip("*"))
        for trusted in settings.CSRF_TRUSTED_ORIGINS
    ):
        return True
    domain, _ = split_domain_port(parsed.netloc)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return not host or parsed.netloc.lower() == host.lower()


class SameOriginValidator:
    """Refuses an agent socket whose Origin fails origin_allowed (ASGI middleware)."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if self.allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

    @staticmethod
    def allowed(scope):
        # Not in __call__: a dict of the headers there would live as long as the socket (about 1 KiB).
        headers = {name: value.decode("latin1") for name, value in scope.get("headers", []) if name in (b"origin", b"host")}
        return origin_allowed(headers.get(b"origin", ""), headers.get(b"host", ""))

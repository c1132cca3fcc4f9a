"""Per-connection input limits."""

import asyncio
import logging
import time

import redis.asyncio as redis

logger = logging.getLogger(__name__)


class TokenBucket:
    """capacity messages, refilled evenly over period seconds. take() -> 0 if allowed, else seconds to wait."""

    def __init__(self, capacity, period, clock=time.monotonic):
        self.capacity = float(capacity)
        self.rate = capacity / period
        self.tokens = float(capacity)
        self.clock = clock
        self.updated = clock()

    def take(self):
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class ConnectionCounter:
    """Open connections per key (a client address, a signed identity), in this process.

    acquire(key, member, limit) -> True if member now holds one of at most limit places."""

    def __init__(self):
        self.members = {}

    async def acquire(self, key, member, limit):
        held = self.members.setdefault(key, set())
        if member not in held and limit and len(held) >= limit:
            if not held:
                del self.members[key]
            return False
        held.add(member)
        return True

    async def release(self, key, member):
        held = self.members.get(key)
        if held is not None:
            held.discard(member)
            if not held:
                del self.members[key]


# KEYS[1]: a sorted set of channel names scored by their last refresh; ARGV: member, now, stale
# before, limit, expiry. Stale members (a process that died without releasing them) drop out.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false then
  local limit = tonumber(ARGV[4])
  if limit > 0 and redis.call('ZCARD', KEYS[1]) >= limit then return 0 end
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisConnectionCounter:
    """The same count shared by every process on one Redis. Each process refreshes its members'
    scores every `refresh` seconds; a member not refreshed for `stale` seconds no longer counts."""

    prefix = "helpdesk:chat:conns:"

    def __init__(self, url, refresh=20.0, stale=60.0, clock=time.time, options=None):
        self.url, self.refresh, self.stale, self.clock = url, refresh, stale, clock
        self.options = options or {}
        self.held = {}  # key -> members this process holds
        self._clients = {}  # event loop -> (redis client, acquire script, refresher task)

    def _client(self):
        loop = asyncio.get_running_loop()
        state = self._clients.get(loop)
        if state is None:
            for other in [lp for lp in self._clients if lp.is_closed()]:
                del self._clients[other]
            client = redis.Redis.from_url(self.url, **self.options)
            state = self._clients[loop] = (client, client.register_script(_ACQUIRE),
                                           loop.create_task(self._refresh_forever(client)))
        return state

    async def _refresh_forever(self, client):
        while True:
            await asyncio.sleep(self.refresh)
            try:
                await self.refresh_now(client)
            except Exception:  # Redis away for a moment: the next round retries
                logger.warning("chat connection counts: refresh failed", exc_info=True)

    async def refresh_now(self, client=None):
        client = client or self._client()[0]
        now = self.clock()
        async with client.pipeline(transaction=False) as pipe:
            for key, members in self.held.items():
                pipe.zadd(self.prefix + key, {m: now for m in members}, xx=True)
                pipe.expire(self.prefix + key, int(self.stale) + 1)
            await pipe.execute()

    async def acquire(self, key, member, limit):
        _client, script, _task = self._client()
        now = self.clock()
        ok = await script(keys=[self.prefix + key],
                          args=[member, now, now - self.stale, limit, int(self.stale) + 1])
        if ok:
            self.held.setdefault(key, set()).add(member)
        return bool(ok)

    async def release(self, key, member):
        held = self.held.get(key)
        if held is not None:
            held.discard(member)
            if not held:
                del self.held[key]
        client = self._client()[0]
        await client.zrem(self.prefix + key, member)


_counter = None


def connection_counter():
    """The process's counter: in Redis when REDIS_URL is set, in memory otherwise."""
    global _counter
    from django.conf import settings

    url = settings.REDIS_URL
    if _counter is None or getattr(_counter, "url", "") != url:
        _counter = RedisConnectionCounter(url, options=settings.REDIS_ASYNC_OPTIONS) if url else ConnectionCounter()
    return _counter

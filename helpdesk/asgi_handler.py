"""Django's ASGI handler with each request's sync work on one reused thread, in few hops.

Django's ASGIHandler runs the middleware chain in async mode. Every middleware written for sync
code (most of Django's own, and ours) is then entered and left through sync_to_async, so one page
here took about twenty hops between the event loop and a thread, and each request got a thread of
its own (asgiref's per-request ThreadSensitiveContext) that another new thread joined at its end.
This handler loads the chain in sync mode and runs it, view included, in one call. The request's
thread-sensitive work (the request_started signal, the chain, a streaming body's iterator,
response.close() and request_finished) runs on one thread borrowed for the whole request from a
fixed set, so the thread's database connection can be kept between requests (CONN_MAX_AGE).

What a request does is what Django does: the same middleware in the same order, the same signals,
and all of a request's sync code on one thread. At most `threads` requests run at once; the others
wait for a thread, as with a WSGI server's workers.
"""

import asyncio
import collections
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler


class PooledThreadASGIHandler(ASGIHandler):
    def __init__(self, threads):
        if threads < 1:
            raise ValueError("threads must be at least 1")
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self._threads = threads
        self._made = 0
        self._idle = []  # last in, first out: the warmest thread and its connection go first
        self._waiters = collections.deque()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = await self._borrow()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self._give_back(executor)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)

    async def _borrow(self):
        if self._idle:
            return self._idle.pop()
        if self._made < self._threads:
            self._made += 1
            return self._new_thread()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a thread just as it was cancelled
                self._give_back(waiter.result())
            raise

    def _new_thread(self):
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="http")

    def _give_back(self, executor):
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(executor)
                return
        self._idle.append(executor)

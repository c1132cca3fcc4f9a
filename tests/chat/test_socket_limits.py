"""Limits on the widget's sockets: a hello in time, connections per signed identity and per
client address (in process memory, and in Redis across processes when REDIS_URL is set), and
frames over the size limit refused by daphne itself."""

import asyncio
import json
import os
import uuid
from urllib.parse import urlparse

import pytest
import websockets
from asgiref.sync import sync_to_async

from helpdesk.chat import limits
from tests import factories as f
from tests.chat.helpers import hello, open_widget, receive, site, widget
from tests.chat.servers import HelpdeskServer, reachable

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop():
    return site(f.team("Support"))


@pytest.fixture(params=["memory", "redis"])
def counter(request, settings, monkeypatch):
    """Each test once with the in-process count and once with the Redis one."""
    if request.param == "memory":
        settings.REDIS_URL = ""
        monkeypatch.setattr(limits, "_counter", None)
        return
    url = os.environ.get("REDIS_URL")
    if not url:
        print("SKIPPED: REDIS_URL is not set: the Redis connection count is not tested")
        pytest.skip("REDIS_URL is not set")
    parsed = urlparse(url)
    if not reachable(parsed.hostname, parsed.port or 6379):
        print(f"SKIPPED: Redis is not reachable at {parsed.hostname}:{parsed.port or 6379}")
        pytest.skip("Redis is not reachable")
    settings.REDIS_URL = url
    counter = limits.RedisConnectionCounter(url)
    counter.prefix = f"test:chat:conns:{uuid.uuid4().hex}:"  # apart from other runs on this Redis
    monkeypatch.setattr(limits, "_counter", counter)


def from_address(address, origin="http://shop.test"):
    ws = widget(origin)
    ws.scope["client"] = [address, 40000]
    return ws


async def closed_with(ws):
    # Generous waits: with Redis the refusal is a script call, which a loaded machine can delay.
    frame = await receive(ws, "error", timeout=10)
    closed = await ws.receive_output(timeout=10)
    assert closed["type"] == "websocket.close"
    await ws.disconnect()
    return frame, closed["code"]


async def test_a_socket_without_hello_in_time_is_closed_with_a_clear_error(shop, settings):
    settings.CHAT_HELLO_TIMEOUT_SECONDS = 0.2
    ws = widget()
    assert (await ws.connect())[0]
    await ws.send_json_to({"type": "ping"})  # a ping is no hello
    assert (await receive(ws, "pong"))["type"] == "pong"
    frame, code = await closed_with(ws)
    assert frame["code"] == "hello_timeout" and "0.2 s" in frame["text"]
    assert code == 4408


async def test_a_socket_that_said_hello_stays_open_past_the_timeout(shop, settings):
    settings.CHAT_HELLO_TIMEOUT_SECONDS = 0.2
    ws, welcome, _ = await open_widget(shop)
    await asyncio.sleep(0.5)
    await ws.send_json_to({"type": "ping"})
    assert (await receive(ws, "pong", "error"))["type"] == "pong"
    await ws.disconnect()


async def test_a_socket_closed_before_its_hello_leaves_no_timer_behind(shop, settings):
    settings.CHAT_HELLO_TIMEOUT_SECONDS = 0.2
    ws = widget()
    assert (await ws.connect())[0]
    await ws.disconnect()
    await asyncio.sleep(0.4)  # the timer would fire here on a consumer that has ended


async def test_connections_per_signed_identity_are_limited(shop, settings, counter):
    settings.CHAT_MAX_CONNECTIONS_PER_IDENTITY = 2
    first, _, _ = await open_widget(shop, "cust-1")
    second, _, _ = await open_widget(shop, "cust-1")
    other, _, _ = await open_widget(shop, "cust-2")  # another customer has places of their own
    third = widget()
    assert (await third.connect())[0]
    await third.send_json_to(hello(shop, "cust-1"))
    frame, code = await closed_with(third)
    assert frame["code"] == "too_many_connections" and frame["limit"] == "identity" and frame["max"] == 2
    assert "at most 2" in frame["text"]
    assert code == 4429
    await first.disconnect()  # its place is free again
    again, welcome, _ = await open_widget(shop, "cust-1")
    assert welcome["type"] == "welcome"
    for ws in (second, other, again):
        await ws.disconnect()


async def test_connections_per_client_address_are_limited(shop, settings, counter):
    settings.CHAT_MAX_CONNECTIONS_PER_ADDRESS = 2
    held = []
    for _ in range(2):
        ws = from_address("203.0.113.7")
        assert (await ws.connect())[0]
        # A socket takes its place after accepting; its pong comes once that is done, so the third
        # socket below is the third to ask (with Redis the first ask also loads the script).
        await ws.send_json_to({"type": "ping"})
        assert (await receive(ws, "pong"))["type"] == "pong"
        held.append(ws)
    refused = from_address("203.0.113.7")
    assert (await refused.connect())[0]
    frame, code = await closed_with(refused)
    assert frame["code"] == "too_many_connections" and frame["limit"] == "address" and code == 4429
    elsewhere = from_address("198.51.100.1")
    assert (await elsewhere.connect())[0]
    await elsewhere.send_json_to(hello(shop, "cust-9"))
    assert (await receive(elsewhere, "welcome", "error"))["type"] == "welcome"
    await held.pop().disconnect()
    back = from_address("203.0.113.7")
    assert (await back.connect())[0]
    await back.send_json_to(hello(shop, "cust-8"))
    assert (await receive(back, "welcome", "error"))["type"] == "welcome"
    for ws in (*held, elsewhere, back):
        await ws.disconnect()


async def test_zero_means_no_limit(shop, settings, counter):
    settings.CHAT_MAX_CONNECTIONS_PER_IDENTITY = 0
    sockets = [(await open_widget(shop, "cust-1"))[0] for _ in range(7)]
    for ws in sockets:
        await ws.disconnect()


async def test_redis_places_of_a_process_that_died_go_stale():
    url = os.environ.get("REDIS_URL")
    if not url:
        print("SKIPPED: REDIS_URL is not set: the Redis connection count is not tested")
        pytest.skip("REDIS_URL is not set")
    now = [1000.0]
    dead = limits.RedisConnectionCounter(url, stale=60, clock=lambda: now[0])
    dead.prefix = alive_prefix = f"test:chat:conns:{uuid.uuid4().hex}:"
    assert await dead.acquire("identity:1:1", "gone-1", 1)  # then its process is killed
    alive = limits.RedisConnectionCounter(url, stale=60, clock=lambda: now[0])
    alive.prefix = alive_prefix
    assert not await alive.acquire("identity:1:1", "new-1", 1)
    now[0] += 61
    assert await alive.acquire("identity:1:1", "new-1", 1)
    now[0] += 50
    await alive.refresh_now()  # a live process keeps its places
    now[0] += 50
    assert not await dead.acquire("identity:1:1", "new-2", 1)
    await alive.release("identity:1:1", "new-1")


@pytest.fixture
def server(tmp_path, cobrowse_key_file):
    s = HelpdeskServer(tmp_path / "ws", COBROWSE_API="http://127.0.0.1:9", CHAT_MAX_FRAME_BYTES="4096",
                       COBROWSE_PRIVATE_KEY_FILE=str(cobrowse_key_file))
    try:
        yield s.start()
    finally:
        s.stop()


async def test_daphne_refuses_a_frame_over_the_size_limit_with_1009_and_stays_healthy(server, shop):
    async with websockets.connect(f"{server.ws_url}/ws/chat/", origin="http://shop.test", max_size=None) as ws:
        await ws.send(json.dumps({"type": "message", "client_id": "c-1", "body": "x" * 10_000}))
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1009
    # A message in several frames, each small, adds up too.
    async with websockets.connect(f"{server.ws_url}/ws/chat/", origin="http://shop.test") as ws:
        await ws.send(["x" * 1500 for _ in range(4)])
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1009
    async with websockets.connect(f"{server.ws_url}/ws/chat/", origin="http://shop.test") as ws:
        await ws.send(json.dumps(await sync_to_async(hello)(shop)))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "welcome"
        await ws.send(json.dumps({"type": "message", "client_id": "c-2", "body": "x" * 3000}))  # within the limit
        while (frame := json.loads(await asyncio.wait_for(ws.recv(), 5)))["type"] not in ("ack", "error"):
            pass
        assert frame == {**frame, "type": "ack", "client_id": "c-2"}
    assert server.process.poll() is None

"""Test helpers for the live chat: a registered site and widget websockets through the real ASGI app."""

from channels.testing import WebsocketCommunicator

from helpdesk.asgi import application
from helpdesk.chat import identity
from helpdesk.chat.models import ChatSite

ORIGIN = "http://shop.test"


def site(team, key="shop", origins=(ORIGIN,)):
    return ChatSite.objects.create(key=key, name=f"Site {key}", team=team, allowed_origins="\n".join(origins))


def hello(site_, user_id="cust-1", name="Carla", last_seen=None, **override):
    frame = {"type": "hello", "site": site_.key, "name": name, "last_seen": last_seen,
             **identity.signed_identity(site_.secret, user_id)}
    frame.update(override)
    return frame


def widget(origin=ORIGIN):
    headers = [(b"origin", origin.encode())] if origin else []
    return WebsocketCommunicator(application, "/ws/chat/", headers=headers)


async def receive(ws, *types, timeout=3):
    """The next frame of one of these types (others, like presence "state" frames, are skipped)."""
    while True:
        frame = await ws.receive_json_from(timeout=timeout)
        if not types or frame["type"] in types:
            return frame


async def open_widget(site_, user_id="cust-1", last_seen=None, origin=ORIGIN, **kw):
    ws = widget(origin)
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to(hello(site_, user_id, last_seen=last_seen, **kw))
    welcome = await receive(ws, "welcome", "error")
    assert welcome["type"] == "welcome", welcome
    history = await receive(ws, "history")
    return ws, welcome, history["messages"]


async def say(ws, body, client_id):
    await ws.send_json_to({"type": "message", "client_id": client_id, "body": body})
    return await receive(ws, "ack", "error")


async def nothing_more(ws, timeout=0.3):
    """No further frame except presence/state updates."""
    while not await ws.receive_nothing(timeout):
        frame = await ws.receive_json_from()
        assert frame["type"] == "state", frame

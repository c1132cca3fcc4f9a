"""The widget's websocket protocol: identity, messages stored before ack, resume, limits, escaping."""

import json
import time

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from helpdesk import services as helpdesk
from helpdesk.chat import identity
from helpdesk.chat.consumers import WidgetConsumer
from helpdesk.chat.models import Chat
from helpdesk.models import Customer, Message, Ticket
from helpdesk.routing import websocket_urlpatterns
from tests import factories as f
from tests.chat.helpers import hello, nothing_more, open_widget, receive, say, site, widget

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop():
    support = f.team("Support")
    return site(support), f.agent(support, name="Alice Agent")


async def refused(frame, origin="http://shop.test"):
    ws = widget(origin)
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to(frame)
    error = await ws.receive_json_from(timeout=3)
    closed = await ws.receive_output(timeout=3)
    assert closed["type"] == "websocket.close"
    return error, closed["code"]


async def test_unsigned_forged_expired_and_unknown_identities_are_refused_with_a_clear_error(shop):
    s, _ = shop
    good = hello(s, "cust-1")
    cases = {
        "unsigned": {**good, "signature": ""},
        "forged": {**good, "signature": identity.sign("not-the-site-secret", "cust-1", good["expires"])},
        "expired": {**good, **identity.signed_identity(s.secret, "cust-1", lifetime=-5)},
        "unknown_site": {**good, "site": "nope"},
    }
    # Another user's id with this user's signature is a forgery too.
    cases_other = {**good, "user_id": "cust-2"}
    no_expiry = {**good, "expires": ""}  # what the widget sends when data-expires is missing
    for code, frame in [*cases.items(), ("forged", cases_other), ("unsigned", no_expiry)]:
        error, close_code = await refused(frame)
        assert error["type"] == "error" and error["code"] == code, (code, error)
        assert error["text"]
        assert close_code in (4401, 4403)
    assert not await sync_to_async(Chat.objects.exists)()


async def test_an_origin_not_allowed_for_the_site_is_refused(shop):
    s, _ = shop
    for origin in ("http://evil.test", None):
        error, code = await refused(hello(s), origin=origin)
        assert error["code"] == "origin_not_allowed" and code == 4403


def hello_text(site_, field, raw):
    """A hello frame's text whose field holds raw JSON text (NaN, 1e999: what json.dumps cannot write)."""
    return json.dumps({**hello(site_), field: "@raw@"}).replace('"@raw@"', raw)


@pytest.mark.parametrize("field, raw", [
    ("signature", '"é"'), ("signature", json.dumps("é" * 64)), ("signature", json.dumps("g" * 64)),
    ("signature", '["abc"]'), ("expires", "true"), ("expires", "1.5e9"), ("expires", '"soon"'), ("expires", "-5"),
    ("user_id", '["cust-1"]'), ("user_id", '{"id": 1}'), ("site", '{"key": "shop"}'), ("site", json.dumps("s" * 51)),
    ("name", "[1]"), ("last_seen", "true"), ("last_seen", "-1"), ("last_seen", '"12"'),
])
async def test_a_hello_that_is_not_the_documented_shape_is_a_bad_identity_and_closes(shop, field, raw):
    s, _ = shop
    ws = widget()
    assert (await ws.connect())[0]
    await ws.send_to(text_data=hello_text(s, field, raw))
    error = await ws.receive_json_from(timeout=3)
    assert error["type"] == "error" and error["code"] == "bad_identity" and field in error["text"], error
    closed = await ws.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": 4401}
    assert not await sync_to_async(Customer.objects.exists)()


@pytest.mark.parametrize("field, raw, reason", [
    ("expires", "1e999", "too large"), ("expires", "NaN", "NaN is not allowed"),
    ("expires", "Infinity", "Infinity is not allowed"), ("expires", "1" + "0" * 30, "too large"),
    ("last_seen", "1" + "0" * 20, "too large"), ("name", "[" * 10_000 + "]" * 10_000, "nested more than 20 levels"),
])
async def test_numbers_json_cannot_hold_exactly_and_deep_nesting_in_a_hello_are_refused_and_the_socket_stays(
        shop, field, raw, reason):
    s, _ = shop
    ws = widget()
    assert (await ws.connect())[0]
    await ws.send_to(text_data=hello_text(s, field, raw))
    error = await ws.receive_json_from(timeout=3)
    assert error["type"] == "error" and error["code"] in ("bad_number", "too_deep") and reason in error["text"], error
    assert await ws.receive_nothing(timeout=0.2)  # not closed
    assert not await sync_to_async(Customer.objects.exists)()
    await ws.send_json_to(hello(s))
    assert (await receive(ws, "welcome", "error"))["type"] == "welcome"
    await ws.disconnect()


@pytest.mark.parametrize("text, code, reason", [
    ('{"type": {"message": 1}}', "bad_type", "type must be one of"),
    ('{"type": ["ping"]}', "bad_type", "type must be one of"),
    ("[" * 10_000 + "]" * 10_000, "too_deep", "nested more than 20 levels"),
    ('{"type": "ping", "x": ' + '{"a": ' * 3000 + "1" + "}" * 3001, "too_deep", "nested more than 20 levels"),
    ('{"type": "message", "client_id": "c-1", "body": "hi", "x": NaN}', "bad_number", "NaN is not allowed"),
    ('{"type": "message", "client_id": "c-1", "body": "hi", "x": 1e999}', "bad_number", "too large"),
    ('{"type": "typing", "x": -Infinity}', "bad_number", "-Infinity is not allowed"),
    ('{"type": "close", "x": ' + "9" * 5000 + "}", "bad_number", "too large"),
    ('{"type": "message", "client_id": ["c-1"], "body": "hi"}', "bad_field", "client_id must be text"),
    ('{"type": "message", "client_id": "c-1", "body": ["hi"]}', "bad_field", "body must be text"),
])
async def test_frames_that_are_not_the_documented_shape_get_an_error_and_change_nothing(shop, text, code, reason):
    s, _ = shop
    ws, _, _ = await open_widget(s)
    await say(ws, "first", "c-0")
    await receive(ws, "message")
    await ws.send_to(text_data=text)
    error = await receive(ws, "error", "ack", "closed", "pong")
    assert error["type"] == "error" and error["code"] == code and reason in error["text"], error
    await ws.send_json_to({"type": "ping"})
    assert (await receive(ws, "pong", "error"))["type"] == "pong"
    assert await sync_to_async(Message.objects.count)() == 1
    assert (await sync_to_async(Chat.objects.get)()).state == "waiting"
    await ws.disconnect()


async def test_messages_before_hello_are_refused_and_the_connection_stays_usable(shop):
    s, _ = shop
    ws = widget()
    await ws.connect()
    await ws.send_json_to({"type": "message", "client_id": "a", "body": "hi"})
    assert (await ws.receive_json_from())["code"] == "hello_first"
    await ws.send_json_to(hello(s))
    assert (await receive(ws, "welcome"))["chat"] is None
    await ws.disconnect()


async def test_first_message_opens_a_chat_ticket_and_is_acknowledged_after_it_is_stored(shop):
    s, alice = shop
    ws, welcome, history = await open_widget(s, "cust-1")
    assert welcome["chat"] is None and history == []
    ack = await say(ws, "My order is stuck", "c-1")
    assert ack["type"] == "ack" and ack["client_id"] == "c-1"
    stored = await sync_to_async(Message.objects.select_related("conversation__ticket").get)(pk=ack["id"])
    ticket = stored.conversation.ticket
    assert stored.body == "My order is stuck" and stored.client_id == "c-1"
    assert ticket.channel == Ticket.Channel.CHAT and ticket.team_id == s.team_id
    echoed = await receive(ws, "message")
    assert echoed["id"] == ack["id"] and echoed["from"] == "customer"
    chat = await sync_to_async(Chat.objects.get)()
    assert chat.state == "waiting" and chat.customer_connections == 1
    await ws.disconnect()


async def test_agent_replies_reach_the_widget_and_internal_notes_never_do(shop):
    s, alice = shop
    ws, _, _ = await open_widget(s)
    ack = await say(ws, "Hello?", "c-1")
    await receive(ws, "message")
    ticket = await sync_to_async(lambda: Message.objects.get(pk=ack["id"]).conversation.ticket)()
    await sync_to_async(helpdesk.reply)(ticket, alice, "Secret: customer is a VIP", internal=True)
    await sync_to_async(helpdesk.reply)(ticket, alice, "Hi, I am Alice. How can I help?")
    frame = await receive(ws, "message")
    assert frame["from"] == "agent" and frame["author"] == "Alice Agent"
    assert frame["body"] == "Hi, I am Alice. How can I help?"
    await nothing_more(ws)
    # A reconnect's full history does not contain the note either.
    ws2, _, history = await open_widget(s)
    assert [m["body"] for m in history] == ["Hello?", "Hi, I am Alice. How can I help?"]
    await ws.disconnect()
    await ws2.disconnect()


async def test_reconnect_resumes_after_the_last_seen_message_without_loss_or_duplicates(shop):
    s, alice = shop
    ws, _, _ = await open_widget(s)
    first = await say(ws, "one", "c-1")
    await receive(ws, "message")
    ticket = await sync_to_async(lambda: Message.objects.get(pk=first["id"]).conversation.ticket)()
    await ws.disconnect()  # lost network
    # While the customer is away: an agent answers, and the widget's unacknowledged send is retried.
    await sync_to_async(helpdesk.reply)(ticket, alice, "two (agent, while you were away)")
    ws, welcome, history = await open_widget(s, last_seen=first["id"])
    assert welcome["chat"]["state"] == "waiting"
    assert [m["body"] for m in history] == ["two (agent, while you were away)"]
    retry = await say(ws, "three", "c-3")
    again = await say(ws, "three", "c-3")  # the ack was lost; the widget sends the same client_id
    assert again["id"] == retry["id"]
    again_first = await say(ws, "one", "c-1")  # even the very first message, that opened the chat
    assert again_first["id"] == first["id"]
    bodies = await sync_to_async(lambda: list(
        Message.objects.filter(conversation__ticket=ticket).order_by("id").values_list("body", flat=True)))()
    assert bodies == ["one", "two (agent, while you were away)", "three"]
    await ws.disconnect()


async def test_a_second_tab_of_the_customer_follows_the_same_chat(shop):
    s, _ = shop
    tab1, _, _ = await open_widget(s)
    tab2, _, _ = await open_widget(s)
    ack = await say(tab1, "from tab one", "c-1")
    frame = await receive(tab2, "message")
    assert frame["id"] == ack["id"] and frame["body"] == "from tab one"
    chat = await sync_to_async(Chat.objects.get)()
    assert chat.customer_connections == 2
    await tab1.disconnect()
    await tab2.disconnect()


async def test_bad_json_wrong_types_and_oversized_messages_get_errors_and_the_connection_stays_usable(shop, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 50
    s, _ = shop
    ws, _, _ = await open_widget(s)
    await ws.send_to(text_data="{not json")
    assert (await receive(ws, "error"))["code"] == "bad_json"
    await ws.send_to(text_data="[1, 2]")
    assert (await receive(ws, "error"))["code"] == "bad_type"
    await ws.send_json_to({"type": "shout"})
    assert (await receive(ws, "error"))["code"] == "bad_type"
    await ws.send_json_to({"type": "message", "client_id": 5, "body": "x"})
    assert (await receive(ws, "error"))["code"] == "bad_field"
    await ws.send_json_to({"type": "message", "client_id": "c-1", "body": {"html": 1}})
    assert (await receive(ws, "error"))["code"] == "bad_field"
    too_long = await say(ws, "x" * 51, "c-2")
    assert too_long["code"] == "too_long" and too_long["client_id"] == "c-2" and "50 characters" in too_long["text"]
    empty = await say(ws, "   ", "c-3")
    assert empty["code"] == "refused" and "empty" in empty["text"]
    for body, client_id in (("a\x00b", "c-5"), ("x", "c\x006")):
        assert (await say(ws, body, client_id))["code"] in ("refused", "bad_field")
    await ws.send_to(text_data='{"type": "message", "client_id": "c-7", "body": "\\ud800"}')  # a lone surrogate
    assert "NUL" in (await receive(ws, "error"))["text"]
    assert (await say(ws, "x" * 50, "c-4"))["type"] == "ack"
    assert await sync_to_async(Message.objects.count)() == 1
    await ws.disconnect()


async def test_rate_limit_refuses_the_eleventh_message_in_ten_seconds_then_recovers(shop, monkeypatch):
    s, _ = shop
    now = [1000.0]
    monkeypatch.setattr(WidgetConsumer, "clock", staticmethod(lambda: now[0]))
    ws, _, _ = await open_widget(s)
    for i in range(10):
        assert (await say(ws, f"m{i}", f"c-{i}"))["type"] == "ack"
    limited = await say(ws, "one too many", "c-10")
    assert limited["code"] == "rate_limited" and limited["client_id"] == "c-10" and limited["retry_after"] > 0
    now[0] += 1.0  # one token back
    assert (await say(ws, "one too many", "c-10"))["type"] == "ack"
    assert (await say(ws, "and again", "c-11"))["code"] == "rate_limited"
    await ws.disconnect()


async def ticket_page(agent, ticket_id):
    page = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/tickets/{ticket_id}/")
    page.scope["user"] = agent.user
    assert (await page.connect())[0]
    assert "ticket-viewers" in await page.receive_from(timeout=3)  # the page's own arrival
    return page


async def test_typing_shows_on_the_agents_ticket_page_at_most_once_a_second(shop, monkeypatch):
    s, alice = shop
    now = [1000.0]
    monkeypatch.setattr(WidgetConsumer, "clock", staticmethod(lambda: now[0]))
    ws, _, _ = await open_widget(s, name="Carla <b>")
    await ws.send_json_to({"type": "typing"})  # no chat yet: nobody to tell, and no answer
    await nothing_more(ws)
    ack = await say(ws, "hello", "c-1")
    assert (await receive(ws, "message"))["body"] == "hello"
    ticket_id = await sync_to_async(lambda: Message.objects.get(pk=ack["id"]).conversation.ticket_id)()
    page = await ticket_page(alice, ticket_id)
    await ws.send_json_to({"type": "typing"})
    html = await page.receive_from(timeout=3)
    assert 'id="chat-typing"' in html and "Carla &lt;b&gt; is typing…" in html
    await ws.send_json_to({"type": "typing"})  # within the second: dropped
    assert await page.receive_nothing(timeout=0.3)
    now[0] += 1.5
    await ws.send_json_to({"type": "typing"})
    assert "is typing" in await page.receive_from(timeout=3)
    await nothing_more(ws)  # typing is never answered
    await page.disconnect()
    await ws.disconnect()


async def test_html_in_messages_is_kept_as_text_for_the_widget_and_escaped_on_the_agent_page(shop, client):
    s, alice = shop
    ws, _, _ = await open_widget(s)
    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    ack = await say(ws, payload, "c-1")
    assert (await receive(ws, "message"))["body"] == payload  # text; widget.js renders it with textContent
    ticket = await sync_to_async(lambda: Message.objects.get(pk=ack["id"]).conversation.ticket)()
    await sync_to_async(client.force_login)(alice.user)
    html = (await sync_to_async(client.get)(f"/tickets/{ticket.pk}/")).content.decode()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&lt;script&gt;" in html and payload not in html
    await ws.disconnect()


async def test_customer_closes_the_chat_from_the_widget(shop):
    s, _ = shop
    ws, _, _ = await open_widget(s)
    await say(ws, "Thanks, solved", "c-1")
    await ws.send_json_to({"type": "close"})
    closed = await receive(ws, "closed")
    assert closed["reason"] == "customer"
    chat = await sync_to_async(Chat.objects.get)()
    assert chat.state == "closed"
    # The connection stays usable: a new message starts a new chat (and ticket).
    assert (await say(ws, "One more question", "c-2"))["type"] == "ack"
    assert await sync_to_async(Chat.objects.count)() == 2
    await ws.disconnect()


def test_identity_signature_is_hmac_sha256_of_user_id_and_expiry():
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b"cust-1\n1700000000", hashlib.sha256).hexdigest()
    assert identity.sign("s3cret", "cust-1", 1700000000) == expected
    signed = identity.signed_identity("s3cret", "cust-1", lifetime=60, now=1700000000)
    assert signed == {"user_id": "cust-1", "expires": 1700000060, "signature": identity.sign("s3cret", "cust-1", 1700000060)}
    assert identity.verify("s3cret", "cust-1", "1700000060", signed["signature"].upper(), now=1700000000) == "cust-1"
    with pytest.raises(identity.IdentityError) as exc:
        identity.verify("s3cret", "cust-1", 1700000060, signed["signature"], now=time.time())
    assert exc.value.code == "expired"

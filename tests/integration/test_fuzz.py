"""A fuzz pass (hypothesis) over the co-browse bridge endpoint and the chat widget protocol:
malformed JSON, wrong types, huge bodies, unicode, script tags. Every case gets a clear 4xx or
an error frame; never a 500, never a change of state."""

import json

import pytest
from asgiref.sync import async_to_sync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.chat.models import Chat
from helpdesk.models import Event, Message
from integrations.cobrowse.models import SessionLink
from tests import factories as f
from tests.chat.helpers import hello, receive, site, widget

pytestmark = pytest.mark.django_db

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=50),
                    st.just("<script>alert(1)</script>"), st.just("ses_" + "x" * 300), st.just("\u202e\u0000\ud7ff"))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                      max_leaves=10)
bridge_reports = st.one_of(
    values,
    st.fixed_dictionaries({"event": st.sampled_from(["session.loaded", "session.updated", "tool", "left", "x"]) | scalars,
                           "session_id": scalars, "tool": scalars}),
)
raw_bodies = st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                       st.just(b"{" * 5000), st.just(b'{"event": "session.loaded", "session_id": "' + b"a" * 9000 + b'"}'))


@pytest.fixture
def agent_client(client):
    team = f.team()
    agent = f.agent(team)
    client.force_login(agent.user)
    return client, f.ticket(team)


def assert_nothing_changed(ticket):
    assert not SessionLink.objects.exists()
    assert list(Event.objects.filter(ticket=ticket).values_list("verb", flat=True)) == ["opened"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(report=bridge_reports)
def test_bridge_refuses_any_malformed_report_clearly(agent_client, report):
    client, ticket = agent_client
    response = client.post(f"/cobrowse/tickets/{ticket.pk}/bridge/", json.dumps(report), content_type="application/json")
    assert 400 <= response.status_code < 500, (report, response.status_code)
    assert response.json()["ok"] is False and response.json()["error"]
    assert_nothing_changed(ticket)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=raw_bodies)
def test_bridge_refuses_any_raw_body_clearly(agent_client, body):
    client, ticket = agent_client
    response = client.post(f"/cobrowse/tickets/{ticket.pk}/bridge/", body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert_nothing_changed(ticket)


chat_frames = st.one_of(
    values,
    st.fixed_dictionaries({"type": st.sampled_from(["message", "hello", "resume", "close", "typing", "ping", "nope"]) | scalars,
                           "body": scalars, "client_id": scalars, "last_seen": scalars}),
)


@pytest.mark.django_db(transaction=True)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames=st.lists(chat_frames, min_size=1, max_size=5))
def test_chat_protocol_answers_garbage_with_error_frames_and_stays_usable(frames):
    support = f.team()
    shop = site(support, key=f"fuzz{Chat.objects.count()}{support.pk}")

    async def run():
        ws = widget()
        connected, _ = await ws.connect()
        assert connected
        await ws.send_json_to(hello(shop, "fuzz-user"))
        assert (await receive(ws, "welcome", "error"))["type"] == "welcome"
        for frame in frames:
            if isinstance(frame, dict) and frame.get("type") in ("close", "hello", "resume", "typing"):
                continue  # valid control frames have their own tests; typing is never answered
            await ws.send_to(text_data=json.dumps(frame))
            answer = await receive(ws, "error", "ack", "message", "pong")
            assert answer["type"] in ("error", "ack", "message", "pong"), answer
            if answer["type"] == "error":
                assert answer.get("text")
        await ws.send_to(text_data="{not json")
        assert (await receive(ws, "error"))["type"] == "error"
        await ws.send_json_to({"type": "message", "client_id": "still-works", "body": "hello"})
        assert (await receive(ws, "ack", "error"))["type"] == "ack"
        await ws.disconnect()

    async_to_sync(run)()
    stored = list(Message.objects.filter(conversation__chat__site=shop).values_list("body", flat=True))
    assert "hello" in stored
    assert all(isinstance(b, str) and b.strip() for b in stored)

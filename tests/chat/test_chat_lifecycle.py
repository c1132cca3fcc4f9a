"""Chat lifecycle: closing (agent, customer gone, ticket), what closing triggers, the agents' queue."""

import io
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from helpdesk import services as helpdesk
from helpdesk.chat import services
from helpdesk.chat.consumers import WidgetConsumer
from helpdesk.chat.models import Chat
from helpdesk.models import Agent, Event
from helpdesk.routing import websocket_urlpatterns
from integrations.cobrowse.models import SessionLink
from tests import factories as f
from tests.chat.helpers import open_widget, receive, say, site

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world():
    support = f.team("Support")
    shop = site(support)
    alice = f.agent(support, name="Alice Agent")
    carla = f.customer(user_id="cust-1", name="Carla", site=shop)
    chat, _ = services.start_or_resume_chat(shop, carla, "My parcel never arrived", client_id="c-1")
    return shop, alice, chat


def verbs(ticket):
    return list(Event.objects.filter(ticket=ticket).values_list("verb", flat=True))


SEEN = []


def seen_hook(ticket, actor, kind, reason):
    chat = Chat.objects.get(conversation__ticket=ticket)
    SEEN.append((ticket.pk, actor, kind, reason, chat.state))


def broken_hook(**kwargs):
    raise RuntimeError("hook failed")


def test_agent_closes_the_chat_with_an_event_and_the_close_hooks(world, client, settings):
    shop, alice, chat = world
    seen = SEEN
    seen.clear()
    settings.CLOSE_HOOKS = [*settings.CLOSE_HOOKS, "tests.chat.test_chat_lifecycle.seen_hook"]
    client.force_login(alice.user)
    response = client.post(f"/chats/{chat.pk}/close/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="chat-panel")
    assert response.status_code == 200 and "Closed" in response.content.decode()
    chat.refresh_from_db()
    assert chat.state == "closed" and chat.closed_at and chat.close_reason == "agent"
    event = Event.objects.get(ticket=chat.ticket, verb="chat_closed")
    assert event.actor == alice and event.data["reason"] == "agent"
    # The receiver ran inside the closing transaction (it already saw the chat closed).
    assert seen == [(chat.ticket.pk, alice, "chat", "agent", "closed")]
    assert client.post(f"/chats/{chat.pk}/close/").status_code == 302  # already closed: refused politely


def test_a_failing_close_hook_rolls_the_chat_close_back(world, settings):
    shop, alice, chat = world
    settings.CLOSE_HOOKS = [*settings.CLOSE_HOOKS, "tests.chat.test_chat_lifecycle.broken_hook"]
    with pytest.raises(RuntimeError):
        services.close_chat(chat, alice, "agent")
    chat.refresh_from_db()
    assert chat.state == "waiting" and "chat_closed" not in verbs(chat.ticket)


def test_closing_a_chat_requests_the_end_of_the_tickets_linked_cobrowse_sessions(world):
    shop, alice, chat = world
    live = SessionLink.objects.create(ticket=chat.ticket, session_id="s-live", agent=alice, state="active")
    ended = SessionLink.objects.create(ticket=chat.ticket, session_id="s-ended", agent=alice, state="ended")
    services.close_chat(chat, alice, "agent")
    live.refresh_from_db()
    ended.refresh_from_db()
    assert live.end_requested_at is not None and ended.end_requested_at is None
    queued = DBTaskResult.objects.filter(task_path__endswith="end_session")
    assert [r.args_kwargs["args"] for r in queued] == [[live.pk]]
    assert "cobrowse_end_requested" in verbs(chat.ticket)


def test_grace_period_closes_the_chat_only_if_the_customer_has_not_come_back(world, settings):
    settings.CHAT_GRACE_SECONDS = 120
    shop, alice, chat = world
    t0 = timezone.now()
    services.customer_disconnected(chat, now=t0)  # the tab that started the chat closed
    task = DBTaskResult.objects.get(task_path__endswith="close_if_customer_gone")
    assert task.run_after == t0 + timedelta(seconds=120) and task.args_kwargs["args"] == [chat.pk]
    assert not services.close_if_customer_gone(chat.pk, now=t0 + timedelta(seconds=119))
    # Came back within the grace period (and left again later): the first task does nothing.
    services.customer_connected(chat)
    assert not services.close_if_customer_gone(chat.pk, now=t0 + timedelta(seconds=200))
    t1 = t0 + timedelta(seconds=300)
    services.customer_disconnected(chat, now=t1)
    assert not services.close_if_customer_gone(chat.pk, now=t0 + timedelta(seconds=400))
    assert Chat.objects.get(pk=chat.pk).state == "waiting"
    # Gone for longer than the grace period: closed, with the Event.
    assert services.close_if_customer_gone(chat.pk, now=t1 + timedelta(seconds=121))
    chat.refresh_from_db()
    assert chat.state == "closed" and chat.close_reason == "customer_gone"
    assert Event.objects.get(ticket=chat.ticket, verb="chat_closed").actor is None


async def test_widget_disconnect_schedules_the_grace_close_and_a_reconnect_cancels_it(settings):
    settings.CHAT_GRACE_SECONDS = 120
    support = await sync_to_async(f.team)("Support")
    shop = await sync_to_async(site)(support)
    ws, _, _ = await open_widget(shop)
    await say(ws, "hello", "c-1")
    await ws.disconnect()
    chat = await sync_to_async(Chat.objects.get)()
    assert chat.customer_connections == 0 and chat.customer_left_at is not None
    assert await sync_to_async(DBTaskResult.objects.filter(task_path__endswith="close_if_customer_gone").count)() == 1
    ws, welcome, history = await open_widget(shop)  # the customer is back
    assert welcome["chat"]["id"] == chat.pk and [m["body"] for m in history] == ["hello"]
    later = chat.customer_left_at + timedelta(seconds=500)
    assert not await sync_to_async(services.close_if_customer_gone)(chat.pk, now=later)
    await ws.disconnect()


async def test_leaving_the_ticket_page_ends_nothing(world):
    shop, alice, chat = world
    SessionLink.objects.create(ticket=chat.ticket, session_id="s-1", agent=alice, state="active")
    page = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/tickets/{chat.ticket.pk}/")
    page.scope["user"] = alice.user
    assert (await page.connect())[0]
    await page.disconnect()  # the agent switches to another chat
    chat = await sync_to_async(Chat.objects.get)(pk=chat.pk)
    assert chat.state == "waiting"
    assert await sync_to_async(SessionLink.objects.filter(end_requested_at__isnull=False).count)() == 0
    assert "chat_closed" not in await sync_to_async(verbs)(chat.ticket)


def test_closing_the_ticket_closes_its_chat(world):
    shop, alice, chat = world
    helpdesk.close_ticket(chat.ticket, alice)
    chat.refresh_from_db()
    assert chat.state == "closed" and chat.close_reason == "ticket_closed"


def test_queue_shows_each_team_its_waiting_chats_and_take_assigns_the_ticket(world, client):
    shop, alice, chat = world
    billing_agent = f.agent(f.team("Billing"), name="Bob Billing")
    supervisor = f.agent(None, role=Agent.Role.SUPERVISOR, name="Sam Super")
    for agent, sees in ((alice, True), (billing_agent, False), (supervisor, True)):
        client.force_login(agent.user)
        assert ("Carla" in client.get("/chats/").content.decode()) is sees, agent
    client.force_login(billing_agent.user)
    assert client.post(f"/chats/{chat.pk}/take/").status_code == 404
    client.force_login(alice.user)
    response = client.post(f"/chats/{chat.pk}/take/")
    assert response.status_code == 302 and response["Location"] == chat.ticket.get_absolute_url()
    chat.refresh_from_db()
    chat.ticket.refresh_from_db()
    assert chat.state == "active" and chat.ticket.assignee == alice
    assert "assigned" in verbs(chat.ticket)
    page = client.get("/chats/").content.decode()
    assert "No chats waiting." in page and "My chats" in page and "Carla" in page


async def test_queue_page_updates_live_when_a_chat_starts_and_is_taken(world):
    shop, alice, chat = world
    queue = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/chats/queue/")
    queue.scope["user"] = alice.user
    assert (await queue.connect())[0]
    dora = await sync_to_async(f.customer)(user_id="cust-2", name="Dora Newcomer", site=shop)
    await sync_to_async(services.start_or_resume_chat)(shop, dora, "Hi there", client_id="d-1")
    html = await queue.receive_from(timeout=3)
    assert 'id="chat-queue"' in html and "Dora Newcomer" in html and "Carla" in html
    await sync_to_async(services.take_chat)(chat, alice)
    html = await queue.receive_from(timeout=3)
    assert html.index("Carla") > html.index("My chats")
    await queue.disconnect()


async def test_agent_close_reaches_the_widget(world):
    shop, alice, chat = world
    ws, welcome, history = await open_widget(shop, "cust-1")
    assert welcome["chat"]["id"] == chat.pk and history[0]["body"] == "My parcel never arrived"
    await sync_to_async(services.close_chat)(chat, alice, "agent")
    closed = await receive(ws, "closed")
    assert closed == {"type": "closed", "chat_id": chat.pk, "reason": "agent"}
    await ws.disconnect()


def test_take_from_a_pushed_queue_fragment_opens_the_ticket(world, client):
    shop, alice, chat = world
    client.force_login(alice.user)
    response = client.post(f"/chats/{chat.pk}/take/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"] == chat.ticket.get_absolute_url()
    panel = client.post(f"/chats/{chat.pk}/close/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="chat-panel")
    assert 'id="chat-panel"' in panel.content.decode()


def test_a_customer_whose_connections_died_with_a_process_is_marked_gone_and_the_chat_closes(world, settings):
    settings.CHAT_GRACE_SECONDS, settings.CHAT_PRESENCE_TIMEOUT_SECONDS = 120, 90
    shop, alice, chat = world
    t0 = timezone.now()
    services.customer_connected(chat)
    services.customer_connected(chat)  # two tabs, both on a process that is then killed: no disconnect
    services.customer_still_here(chat, now=t0)
    fresh, _ = services.start_or_resume_chat(shop, f.customer(user_id="cust-2", name="Dora", site=shop), "hi", client_id="d-1")
    services.customer_still_here(fresh, now=t0 + timedelta(seconds=60))
    assert services.sweep_presence(now=t0 + timedelta(seconds=89)) == 0  # heartbeats are not late yet
    assert services.sweep_presence(now=t0 + timedelta(seconds=91)) == 1  # only Carla's are
    chat.refresh_from_db()
    assert chat.customer_connections == 0 and chat.customer_left_at == t0 and not chat.customer_online
    assert Chat.objects.get(pk=fresh.pk).customer_connections == 1
    task = DBTaskResult.objects.get(task_path__endswith="close_if_customer_gone", args_kwargs__args=[chat.pk])
    assert task.run_after == t0 + timedelta(seconds=120)  # the grace period runs from the last heartbeat
    services.customer_still_here(fresh, now=t0 + timedelta(seconds=180))
    assert services.sweep_presence(now=t0 + timedelta(seconds=200)) == 0  # Carla is marked once
    # A heartbeat that was only late brings the customer back, and the grace close then keeps the chat.
    t1 = t0 + timedelta(seconds=100)
    services.customer_still_here(chat, now=t1)
    chat.refresh_from_db()
    assert chat.customer_connections == 1 and chat.customer_left_at is None and chat.customer_online
    assert not services.close_if_customer_gone(chat.pk, now=t0 + timedelta(seconds=121))
    assert services.sweep_presence(now=t1 + timedelta(seconds=91)) == 1  # silent again: gone again
    assert services.close_if_customer_gone(chat.pk, now=t1 + timedelta(seconds=121))
    assert Chat.objects.get(pk=chat.pk).close_reason == "customer_gone"
    services.customer_still_here(chat, now=t0 + timedelta(seconds=300))  # a late heartbeat reopens nothing
    chat.refresh_from_db()
    assert chat.state == "closed" and chat.customer_seen_at == t1 and chat.customer_connections == 0


async def test_the_widget_heartbeat_keeps_the_customer_present(settings, monkeypatch):
    support = await sync_to_async(f.team)("Support")
    shop = await sync_to_async(site)(support)
    now = [1000.0]
    monkeypatch.setattr(WidgetConsumer, "clock", staticmethod(lambda: now[0]))
    ws, _, _ = await open_widget(shop)
    await say(ws, "hello", "c-1")
    old = timezone.now() - timedelta(seconds=600)
    await sync_to_async(Chat.objects.update)(customer_seen_at=old)
    await ws.send_json_to({"type": "ping"})
    assert (await receive(ws, "pong"))["type"] == "pong"
    seen = (await sync_to_async(Chat.objects.get)()).customer_seen_at
    assert seen > old + timedelta(seconds=590)
    await sync_to_async(Chat.objects.update)(customer_seen_at=old)
    now[0] += 5  # a second ping within the interval writes nothing
    await ws.send_json_to({"type": "ping"})
    await receive(ws, "pong")
    assert (await sync_to_async(Chat.objects.get)()).customer_seen_at == old
    assert await sync_to_async(services.sweep_presence)() == 1  # and without heartbeats: gone
    await ws.disconnect()


def test_the_chat_presence_command_runs_the_sweep(world, settings):
    shop, alice, chat = world
    Chat.objects.filter(pk=chat.pk).update(customer_seen_at=timezone.now() - timedelta(seconds=600))
    out = io.StringIO()
    call_command("chat_presence", stdout=out)
    assert out.getvalue().strip() == "chat: 1 customers marked gone"
    assert Chat.objects.get(pk=chat.pk).customer_connections == 0

"""Agent websockets stay authorized only while their user may still see what they show: signing out,
deactivation, deletion, a team or role change close them, and no push leaks past that."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client

from helpdesk import agent_sockets, services
from helpdesk.asgi import application
from helpdesk.models import Agent, Ticket
from helpdesk.routing import websocket_urlpatterns
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def with_user(user, path):
    """A socket whose scope carries the user (as the auth middleware would set it)."""
    ws = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    ws.scope["user"] = user
    return ws


def with_session(client, path):
    """A socket through the real ASGI app, signed in by the client's session cookie."""
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    return WebsocketCommunicator(application, path, headers=[(b"cookie", cookie), (b"origin", b"http://localhost")])


async def opened(ws):
    connected, code = await ws.connect()
    assert connected, code
    return ws


async def close_code(ws, timeout=3):
    """Reads what the socket sends until it closes; the close code."""
    while True:
        message = await ws.receive_output(timeout)
        if message["type"] == "websocket.close":
            return message.get("code")


async def receives(ws, text, timeout=3):
    """Whether a pushed frame containing this text arrives (frames before it are skipped)."""
    while True:
        message = await ws.receive_output(timeout)
        if message["type"] == "websocket.close":
            return False
        if text in message.get("text", ""):
            return True


@pytest.fixture
def world():
    support, billing = f.team("Support"), f.team("Billing")
    alice = f.agent(support, name="Alice")
    return support, billing, alice, f.ticket(support)


async def reply(ticket, body):
    author = await sync_to_async(f.agent)(await sync_to_async(lambda: ticket.team)())
    await sync_to_async(services.reply)(ticket, author, body)


async def test_signing_out_closes_the_sockets_of_that_session(world):
    support, billing, alice, ticket = world
    client = Client()
    await sync_to_async(client.force_login)(alice.user)
    ws = await opened(with_session(client, f"/ws/tickets/{ticket.pk}/"))
    await sync_to_async(client.post)("/logout/")
    assert await close_code(ws) == 4403
    await reply(ticket, "after sign-out")
    assert await ws.receive_nothing(0.3)


async def test_signing_out_elsewhere_leaves_this_session_open(world):
    support, billing, alice, ticket = world
    here, elsewhere = Client(), Client()
    await sync_to_async(here.force_login)(alice.user)
    await sync_to_async(elsewhere.force_login)(alice.user)
    ws = await opened(with_session(here, f"/ws/tickets/{ticket.pk}/"))
    await sync_to_async(elsewhere.post)("/logout/")
    await reply(ticket, "still here")
    assert await receives(ws, "still here")
    await ws.disconnect()


def frozen_clock(monkeypatch):
    """The sockets' clock, moved by hand: [seconds]."""
    now = [1000.0]
    monkeypatch.setattr(agent_sockets.AgentSocket, "clock", staticmethod(lambda: now[0]))
    return now


async def no_push_then_closed(ws, text):
    """The socket closes with 4403 and never sends `text` before that."""
    while True:
        message = await ws.receive_output(3)
        if message["type"] == "websocket.close":
            return message.get("code")
        assert text not in message.get("text", ""), "a push reached a socket that lost access"


async def test_a_deleted_session_gets_no_push_even_if_the_close_message_is_lost(world, monkeypatch):
    support, billing, alice, ticket = world
    monkeypatch.setattr(agent_sockets, "_send", lambda user_id, event: None)
    now = frozen_clock(monkeypatch)
    client = Client()
    await sync_to_async(client.force_login)(alice.user)
    ws = await opened(with_session(client, f"/ws/tickets/{ticket.pk}/"))
    await sync_to_async(client.post)("/logout/")
    now[0] += agent_sockets.GENERATION_SECONDS  # the generation is read at most once a second
    await reply(ticket, "must not arrive")
    assert await no_push_then_closed(ws, "must not arrive") == 4403
    assert await ws.receive_nothing(0.3)


async def test_deactivating_the_user_closes_their_sockets(world):
    support, billing, alice, ticket = world
    ws = await opened(with_user(alice.user, f"/ws/tickets/{ticket.pk}/"))
    alice.user.is_active = False
    await sync_to_async(alice.user.save)()
    assert await close_code(ws) == 4403


async def test_deleting_the_user_closes_their_sockets(world):
    support, billing, alice, ticket = world
    ws = await opened(with_user(alice.user, f"/ws/tickets/{ticket.pk}/"))
    await sync_to_async(alice.user.delete)()
    assert await close_code(ws) == 4403


async def test_a_new_password_closes_the_sockets_of_older_sessions(world):
    support, billing, alice, ticket = world
    client = Client()
    await sync_to_async(client.force_login)(alice.user)
    ws = await opened(with_session(client, f"/ws/tickets/{ticket.pk}/"))
    alice.user.set_password("another-password-for-tests-2")
    await sync_to_async(alice.user.save)()
    assert await close_code(ws) == 4403


async def test_moving_the_agent_to_another_team_closes_the_old_teams_ticket(world):
    support, billing, alice, ticket = world
    ws = await opened(with_user(alice.user, f"/ws/tickets/{ticket.pk}/"))
    alice.team = billing
    await sync_to_async(alice.save)()
    assert await close_code(ws) == 4403
    await reply(ticket, "after the move")
    assert await ws.receive_nothing(0.3)


async def test_a_team_change_stops_pushes_even_if_the_close_message_is_lost(world, monkeypatch):
    support, billing, alice, ticket = world
    monkeypatch.setattr(agent_sockets, "_send", lambda user_id, event: None)
    now = frozen_clock(monkeypatch)
    ws = await opened(with_user(alice.user, f"/ws/tickets/{ticket.pk}/"))
    alice.team = billing
    await sync_to_async(alice.save)()
    now[0] += agent_sockets.GENERATION_SECONDS
    await reply(ticket, "must not arrive")
    assert await no_push_then_closed(ws, "must not arrive") == 4403
    assert await ws.receive_nothing(0.3)


async def test_moving_the_ticket_to_another_team_closes_its_sockets_there(world):
    support, billing, alice, ticket = world
    ws = await opened(with_user(alice.user, f"/ws/tickets/{ticket.pk}/"))
    ticket.team = billing  # as the admin would
    await sync_to_async(ticket.save)()
    assert await close_code(ws) == 4403


async def test_a_supervisor_demoted_to_another_team_loses_the_ticket(world):
    support, billing, alice, ticket = world
    boss = await sync_to_async(f.agent)(billing, role=Agent.Role.SUPERVISOR)
    ws = await opened(with_user(boss.user, f"/ws/tickets/{ticket.pk}/"))
    boss.role = Agent.Role.AGENT
    await sync_to_async(boss.save)()
    assert await close_code(ws) == 4403


async def test_an_unchanged_agent_keeps_receiving(world):
    support, billing, alice, ticket = world
    colleague = await sync_to_async(f.agent)(support)
    ws = await opened(with_user(alice.user, f"/ws/tickets/{ticket.pk}/"))
    alice.display_name = "Alice A."  # saved, but still of the ticket's team
    await sync_to_async(alice.save)()
    colleague.team = billing  # someone else's change
    await sync_to_async(colleague.save)()
    await reply(ticket, "keeps coming")
    assert await receives(ws, "keeps coming")
    await ws.disconnect()


async def test_pushes_to_an_unchanged_agent_do_not_ask_the_database_each_time(world, monkeypatch):
    support, billing, alice, ticket = world
    checks = []
    real = agent_sockets.current_agent
    monkeypatch.setattr(agent_sockets, "current_agent", lambda *a: checks.append(a) or real(*a))
    ws = await opened(with_user(alice.user, f"/ws/tickets/{ticket.pk}/"))
    assert len(checks) == 1  # the check at connect
    for n in range(5):
        await reply(ticket, f"push {n}")
        assert await receives(ws, f"push {n}")
    assert len(checks) == 1
    await ws.disconnect()


async def test_pushes_are_checked_again_after_a_while(world, monkeypatch):
    support, billing, alice, ticket = world
    now = frozen_clock(monkeypatch)
    monkeypatch.setattr(agent_sockets, "_announce", lambda user_id, event: None)  # every signal lost
    ws = await opened(with_user(alice.user, f"/ws/tickets/{ticket.pk}/"))
    await sync_to_async(Agent.objects.filter(pk=alice.pk).update)(team=billing)  # no signal at all
    now[0] += agent_sockets.RECHECK_SECONDS + 1
    await reply(ticket, "must not arrive")
    assert await no_push_then_closed(ws, "must not arrive") == 4403


class KeeperTicks:
    """Tells when the process's keeper of hot sockets has read the generations (in a worker thread)."""

    def __init__(self, monkeypatch):
        self.reads = 0
        self.changed = threading.Condition()
        real = agent_sockets._read_generations

        def read(keys):
            try:
                return real(keys)
            finally:
                with self.changed:
                    self.reads += 1
                    self.changed.notify_all()

        monkeypatch.setattr(agent_sockets, "_read_generations", read)

    async def next(self, reads=2):
        """Wait until `reads` more reads have finished: with 2, one that started after this call did
        (the keeper reads one at a time)."""
        target = self.reads + reads

        def wait():
            with self.changed:
                return self.changed.wait_for(lambda: self.reads >= target, 5)

        assert await asyncio.to_thread(wait)


async def test_pushes_to_a_socket_that_pushed_lately_need_no_read_of_their_own(world, monkeypatch):
    from django.core.cache import caches

    support, billing, alice, ticket = world
    now = frozen_clock(monkeypatch)
    keeper = KeeperTicks(monkeypatch)
    ws = await opened(with_user(alice.user, f"/ws/tickets/{ticket.pk}/"))
    await reply(ticket, "first")
    assert await receives(ws, "first")
    reads = []
    backend = type(caches["default"])
    real = backend.aget
    monkeypatch.setattr(backend, "aget", lambda self, *a, **k: reads.append(a) or real(self, *a, **k))
    now[0] += agent_sockets.GENERATION_SECONDS
    await keeper.next()  # it read this socket's generation ahead of the push
    await reply(ticket, "second")
    assert await receives(ws, "second")
    assert reads == []
    await ws.disconnect()


async def test_a_socket_that_pushed_lately_still_gets_no_push_once_its_access_is_gone(world, monkeypatch):
    support, billing, alice, ticket = world
    now = frozen_clock(monkeypatch)
    keeper = KeeperTicks(monkeypatch)
    ws = await opened(with_user(alice.user, f"/ws/tickets/{ticket.pk}/"))
    await reply(ticket, "while allowed")
    assert await receives(ws, "while allowed")
    monkeypatch.setattr(agent_sockets, "_send", lambda user_id, event: None)  # the close message is lost
    alice.team = billing
    await sync_to_async(alice.save)()
    now[0] += agent_sockets.GENERATION_SECONDS
    await keeper.next(1)  # it may find the change itself and stop keeping this socket
    await reply(ticket, "must not arrive")
    assert await no_push_then_closed(ws, "must not arrive") == 4403


async def test_the_keeper_checks_an_agents_hot_sockets_together_and_closes_only_the_one_that_lost_access(
        world, monkeypatch):
    support, billing, alice, ticket = world
    now = frozen_clock(monkeypatch)
    keeper = KeeperTicks(monkeypatch)
    tickets = [ticket, *[await sync_to_async(f.ticket)(support) for _ in range(2)]]
    sockets = [await opened(with_user(alice.user, f"/ws/tickets/{t.pk}/")) for t in tickets]
    for t, ws in zip(tickets, sockets):
        await reply(t, f"hot {t.pk}")
        assert await receives(ws, f"hot {t.pk}")
    reads = []
    real = agent_sockets.current_agent
    monkeypatch.setattr(agent_sockets, "current_agent", lambda *a: reads.append(a) or real(*a))
    await sync_to_async(Ticket.objects.filter(pk=tickets[0].pk).update)(team=billing)  # no signal at all
    now[0] += agent_sockets.RECHECK_SECONDS - 2 * agent_sockets.TICK_SECONDS  # due for the keeper
    await keeper.next()
    assert await no_push_then_closed(sockets[0], "never") == 4403
    assert reads == [(alice.user_id, None)]  # the agent read once for its three sockets
    for t, ws in zip(tickets[1:], sockets[1:]):
        await reply(t, f"still {t.pk}")
        assert await receives(ws, f"still {t.pk}")
        await ws.disconnect()
    assert reads == [(alice.user_id, None)]  # and their pushes found the check fresh


async def test_the_chat_queue_socket_asks_the_page_to_reconnect_when_the_team_changes(world):
    support, billing, alice, ticket = world
    ws = await opened(with_user(alice.user, "/ws/chats/queue/"))
    alice.team = billing
    await sync_to_async(alice.save)()
    assert await close_code(ws) == agent_sockets.RECONNECT_CODE  # to join the new team's queue


async def test_the_chat_queue_socket_of_an_unchanged_agent_stays_open(world):
    support, billing, alice, ticket = world
    ws = await opened(with_user(alice.user, "/ws/chats/queue/"))
    alice.display_name = "Alice A."
    await sync_to_async(alice.save)()
    assert await ws.receive_nothing(0.3)
    await ws.disconnect()


async def test_the_chat_queue_socket_of_a_signed_out_user_closes(world):
    support, billing, alice, ticket = world
    client = Client()
    await sync_to_async(client.force_login)(alice.user)
    ws = await opened(with_session(client, "/ws/chats/queue/"))
    await sync_to_async(client.post)("/logout/")
    assert await close_code(ws) == 4403


async def test_a_socket_with_a_forged_or_dead_session_is_refused(world):
    support, billing, alice, ticket = world
    ws = WebsocketCommunicator(application, f"/ws/tickets/{ticket.pk}/",
                               headers=[(b"cookie", b"sessionid=forged"), (b"origin", b"http://localhost")])
    connected, code = await ws.connect()
    assert not connected and code == 4403

"""Every agent viewing a ticket gets its changed fragments pushed over the websocket."""

import re
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from helpdesk import fragments, services
from helpdesk.models import Message
from helpdesk.routing import websocket_urlpatterns
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


async def receive_fragment(communicator, fragment_id, timeout=3):
    """The next pushed HTML that contains the fragment with this id (viewer lists may come first)."""
    while True:
        html = await communicator.receive_from(timeout=timeout)
        if f'id="{fragment_id}"' in html:
            return html


APPEND = 'hx-swap-oob="beforeend:#thread"'


async def receive_append(communicator, timeout=3):
    """The next pushed message: an out-of-band append to the thread."""
    while True:
        html = await communicator.receive_from(timeout=timeout)
        if APPEND in html:
            return html


def message_ids(html):
    return re.findall(r'id="(msg-\d+)"', html)


def connect(user, ticket_id):
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/tickets/{ticket_id}/")
    communicator.scope["user"] = user
    return communicator


@pytest.fixture
def setup():
    support = f.team("Support")
    return support, f.agent(support, name="Alice"), f.agent(support, name="Bert"), f.ticket(support)


async def test_a_reply_reaches_every_agent_viewing_the_ticket(setup):
    support, alice, bert, ticket = setup
    watchers = [connect(alice.user, ticket.pk), connect(bert.user, ticket.pk)]
    for w in watchers:
        connected, _ = await w.connect()
        assert connected
    reply = await sync_to_async(services.reply)(ticket, bert, "Pushed <b>reply</b>")
    for w in watchers:
        html = await receive_append(w)
        assert "Pushed &lt;b&gt;reply&lt;/b&gt;" in html
        assert message_ids(html) == [f"msg-{reply.pk}"]
        await w.disconnect()


async def watching(users, ticket_id):
    watchers = [connect(user, ticket_id) for user in users]
    for w in watchers:
        connected, _ = await w.connect()
        assert connected
    return watchers


async def test_a_customer_message_pushes_only_that_message_to_every_watcher(setup):
    support, alice, bert, ticket = setup
    carl = await sync_to_async(f.agent)(support, name="Carl")
    earlier = await sync_to_async(services.customer_message)(ticket, "An earlier message")
    watchers = await watching([alice.user, bert.user, carl.user], ticket.pk)
    message = await sync_to_async(services.customer_message)(ticket, "Only this one")
    for w in watchers:
        html = await receive_append(w)
        assert message_ids(html) == [f"msg-{message.pk}"]
        assert "Only this one" in html
        assert "An earlier message" not in html and f"msg-{earlier.pk}" not in html
        assert 'id="thread"' not in html
        await w.disconnect()


async def test_a_message_is_rendered_once_however_many_agents_watch(setup):
    support, alice, bert, ticket = setup
    carl = await sync_to_async(f.agent)(support, name="Carl")
    renders = {}
    for users in ([alice.user], [alice.user, bert.user, carl.user]):
        watchers = await watching(users, ticket.pk)
        with mock.patch("helpdesk.live.render_message", wraps=fragments.render_message) as render, \
                mock.patch("helpdesk.live.render_fragment", wraps=fragments.render_fragment) as full:
            await sync_to_async(services.customer_message)(ticket, f"For {len(users)}")
            for w in watchers:
                assert f"For {len(users)}" in await receive_append(w)
            renders[len(users)] = (render.call_count, full.call_count)
        for w in watchers:
            await w.disconnect()
    assert renders == {1: (1, 0), 3: (1, 0)}


async def test_a_page_that_missed_pushes_catches_up_exactly_from_its_refresh_url(setup, client):
    support, alice, bert, ticket = setup
    await sync_to_async(client.force_login)(alice.user)
    page = (await sync_to_async(client.get)(f"/tickets/{ticket.pk}/")).content.decode()
    seen = message_ids(page)
    # Offline while these are written; the next one arrives over a fresh socket as well.
    missed = [await sync_to_async(services.customer_message)(ticket, f"Missed {i}") for i in range(3)]
    missed.append(await sync_to_async(services.reply)(ticket, bert, "Missed reply"))
    w = (await watching([alice.user], ticket.pk))[0]
    pushed = await sync_to_async(services.customer_message)(ticket, "Pushed after reconnect")
    appended = message_ids(await receive_append(w))
    await w.disconnect()
    refreshed = (await sync_to_async(client.get)(f"/tickets/{ticket.pk}/fragment/thread/")).content.decode()
    ids = message_ids(refreshed)
    expected = await sync_to_async(lambda: [f"msg-{pk}" for pk in Message.objects.filter(
        conversation__ticket=ticket).order_by("created_at", "id").values_list("pk", flat=True)])()
    assert ids == expected and len(set(ids)) == len(ids)
    assert set(seen) < set(ids) and {f"msg-{m.pk}" for m in missed} <= set(ids)
    assert appended == [f"msg-{pushed.pk}"]


async def test_status_change_pushes_the_header(setup):
    support, alice, bert, ticket = setup
    w = connect(alice.user, ticket.pk)
    await w.connect()
    await sync_to_async(services.set_pending)(ticket, bert)
    html = await receive_fragment(w, "ticket-header")
    assert "status-pending" in html
    await w.disconnect()


async def test_viewers_see_who_else_is_on_the_ticket(setup):
    support, alice, bert, ticket = setup
    a = connect(alice.user, ticket.pk)
    await a.connect()
    assert "Viewing now: Alice" in await receive_fragment(a, "ticket-viewers")
    b = connect(bert.user, ticket.pk)
    await b.connect()
    assert "Viewing now: Alice, Bert" in await receive_fragment(a, "ticket-viewers")
    await b.disconnect()
    html = await receive_fragment(a, "ticket-viewers")
    assert "Alice" in html and "Bert" not in html
    await a.disconnect()


async def test_agents_of_another_team_and_anonymous_users_are_refused(setup):
    support, alice, bert, ticket = setup
    outsider = await sync_to_async(f.agent)(await sync_to_async(f.team)("Other"))
    for user in (outsider.user, AnonymousUser()):
        w = connect(user, ticket.pk)
        connected, code = await w.connect()
        assert not connected and code == 4403


def test_fragment_endpoint_serves_the_live_fragments(client, setup):
    support, alice, bert, ticket = setup
    client.force_login(alice.user)
    assert 'id="thread"' in client.get(f"/tickets/{ticket.pk}/fragment/thread/").content.decode()
    assert client.get(f"/tickets/{ticket.pk}/fragment/bogus/").status_code == 404
    other = f.ticket(f.team("Other"))
    assert client.get(f"/tickets/{other.pk}/fragment/thread/").status_code == 404

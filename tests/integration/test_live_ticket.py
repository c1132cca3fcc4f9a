"""Every agent viewing a ticket gets its changed fragments pushed over the websocket."""

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from helpdesk import services
from helpdesk.routing import websocket_urlpatterns
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


async def receive_fragment(communicator, fragment_id, timeout=3):
    """The next pushed HTML that contains the fragment with this id (viewer lists may come first)."""
    while True:
        html = await communicator.receive_from(timeout=timeout)
        if f'id="{fragment_id}"' in html:
            return html


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
    await sync_to_async(services.reply)(ticket, bert, "Pushed <b>reply</b>")
    for w in watchers:
        html = await receive_fragment(w, "thread")
        assert "Pushed &lt;b&gt;reply&lt;/b&gt;" in html
        await w.disconnect()


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

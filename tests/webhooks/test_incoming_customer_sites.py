"""The incoming webhook names a customer unambiguously: a user_id is unique per chat site, so when
several sites have it the call must say which (customer.site), or it is refused with no change."""

import pytest

from helpdesk.chat import services as chat_services
from helpdesk.chat.models import Chat
from tests import factories as f
from tests.chat.helpers import site
from tests.webhooks.helpers import call, incoming_endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    support = f.team("Support")
    shop, blog = site(support, key="shop"), site(support, key="blog")
    chats = {}
    for s in (shop, blog):
        customer = f.customer(user_id="u1", name=f"Carla of {s.key}", site=s)
        chats[s.key], _ = chat_services.start_or_resume_chat(s, customer, "Hello?")
    own = f.customer(user_id="u2", name="Known by email")  # the helpdesk's own
    endpoint, secret = incoming_endpoint(team=support)
    return chats, own, endpoint, secret


def states(chats):
    return {key: Chat.objects.get(pk=chat.pk).state for key, chat in chats.items()}


def test_a_user_id_of_several_sites_without_site_is_a_conflict_and_changes_nothing(client, world):
    chats, own, endpoint, secret = world
    response = call(client, endpoint, secret, {"customer": {"user_id": "u1"}})
    assert response.status_code == 409
    assert response.json()["ok"] is False
    assert "customer.site" in response.json()["error"]
    assert states(chats) == {"shop": "waiting", "blog": "waiting"}
    # Naming the site, the call goes through.
    response = call(client, endpoint, secret, {"customer": {"user_id": "u1", "site": "blog"}})
    assert response.status_code == 200, response.content


def test_naming_the_site_reaches_only_that_sites_customer(client, world):
    chats, own, endpoint, secret = world
    response = call(client, endpoint, secret, {"customer": {"user_id": "u1", "site": "shop"}})
    assert response.status_code == 200, response.content
    assert response.json()["closed_chats"] == [chats["shop"].pk]
    assert states(chats) == {"shop": "closed", "blog": "waiting"}


def test_an_empty_site_names_the_helpdesks_own_customer(client, world):
    chats, own, endpoint, secret = world
    ticket = f.ticket(f.team(), own)
    endpoint_everywhere, secret_everywhere = incoming_endpoint(name="Everywhere")
    response = call(client, endpoint_everywhere, secret_everywhere, {"customer": {"user_id": "u2", "site": ""}})
    assert response.status_code == 200, response.content
    assert response.json()["interactions_ended"] == [ticket.pk]
    # ... and not a site's customer of that user_id.
    response = call(client, endpoint, secret, {"customer": {"user_id": "u1", "site": ""}})
    assert response.status_code == 404
    assert states(chats) == {"shop": "waiting", "blog": "waiting"}


def test_a_user_id_of_one_customer_needs_no_site(client, world):
    chats, own, endpoint, secret = world
    ticket = f.ticket(endpoint.team, own)
    response = call(client, endpoint, secret, {"customer": {"user_id": "u2"}})
    assert response.status_code == 200, response.content
    assert response.json()["interactions_ended"] == [ticket.pk]


@pytest.mark.parametrize("site_key", ["nowhere", "blog"])
def test_a_site_without_that_user_id_is_404(client, world, site_key):
    chats, own, endpoint, secret = world
    response = call(client, endpoint, secret, {"customer": {"user_id": "u2", "site": site_key}})
    assert response.status_code == 404
    assert "No customer with this user_id on this site." == response.json()["error"]


@pytest.mark.parametrize("site_value", [7, ["shop"], {"key": "shop"}, "x" * 51, "sh\x00op"])
def test_a_malformed_site_is_400(client, world, site_value):
    chats, own, endpoint, secret = world
    response = call(client, endpoint, secret, {"customer": {"user_id": "u1", "site": site_value}})
    assert response.status_code == 400
    assert "customer.site" in response.json()["error"]
    assert states(chats) == {"shop": "waiting", "blog": "waiting"}

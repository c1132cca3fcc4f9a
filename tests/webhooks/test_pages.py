"""Admins manage webhook endpoints in the product: secrets shown once, rotation, enable/disable,
delete, validation, each change an Event."""

import pytest

from helpdesk.models import Agent, Event
from helpdesk.webhooks.models import IncomingEndpoint, OutgoingEndpoint
from tests import factories as f
from tests.webhooks.helpers import call

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    ada = f.agent(None, role=Agent.Role.ADMIN, name="Ada Admin")
    client.force_login(ada.user)
    return client, ada


def test_an_admin_adds_an_incoming_endpoint_and_sees_its_secret_once(admin_client):
    client, ada = admin_client
    support = f.team("Support")
    response = client.post("/settings/webhooks/", {"kind": "incoming", "in-name": "Contact centre", "in-team": support.pk})
    assert response.status_code == 302
    endpoint = IncomingEndpoint.objects.get()
    assert (endpoint.name, endpoint.team, endpoint.enabled) == ("Contact centre", support, True)
    first = client.get("/settings/webhooks/").content.decode()
    assert endpoint.secret in first and f"/hooks/in/{endpoint.slug}/" in first
    again = client.get("/settings/webhooks/").content.decode()
    assert endpoint.secret not in again and "Contact centre" in again
    assert "added the incoming webhook Contact centre" in again
    assert Event.objects.get(verb="webhook_created").actor == ada


def test_rotating_a_secret_invalidates_the_old_one(admin_client):
    client, ada = admin_client
    client.post("/settings/webhooks/", {"kind": "incoming", "in-name": "Contact centre"})
    endpoint = IncomingEndpoint.objects.get()
    old = endpoint.secret
    ticket = f.ticket(f.team())
    client.post(f"/settings/webhooks/incoming/{endpoint.pk}/rotate/")
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in client.get("/settings/webhooks/").content.decode()
    assert call(client, endpoint, old, {"ticket_id": ticket.pk}).status_code == 401
    assert call(client, endpoint, endpoint.secret, {"ticket_id": ticket.pk}).status_code == 200


def test_an_outgoing_endpoint_is_validated_and_can_be_disabled_and_deleted(admin_client, fake_dns):
    client, ada = admin_client
    fake_dns["crm.example"] = ["93.184.215.14"]
    bad = client.post("/settings/webhooks/", {"kind": "outgoing", "out-name": "CRM", "out-url": "ftp://crm.example"})
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "Enter a valid URL." in html and "Choose at least one event." in html
    assert not OutgoingEndpoint.objects.exists()

    ok = client.post("/settings/webhooks/", {"kind": "outgoing", "out-name": "CRM", "out-url": "https://crm.example/hook",
                                             "out-events": ["ticket.closed", "cobrowse.session_ended"]})
    assert ok.status_code == 302
    endpoint = OutgoingEndpoint.objects.get()
    assert endpoint.events == ["ticket.closed", "cobrowse.session_ended"]
    client.post(f"/settings/webhooks/outgoing/{endpoint.pk}/disable/")
    endpoint.refresh_from_db()
    assert endpoint.enabled is False
    client.post(f"/settings/webhooks/outgoing/{endpoint.pk}/delete/")
    assert not OutgoingEndpoint.objects.exists()
    assert list(Event.objects.filter(ticket=None).values_list("verb", flat=True)) == [
        "webhook_created", "webhook_disabled", "webhook_deleted"]


def test_unknown_kinds_actions_and_endpoints_change_nothing(admin_client):
    client, ada = admin_client
    client.post("/settings/webhooks/", {"kind": "incoming", "in-name": "Contact centre"})
    endpoint = IncomingEndpoint.objects.get()
    secret = endpoint.secret
    assert client.post("/settings/webhooks/", {"kind": "sideways"}).status_code == 302
    assert client.post(f"/settings/webhooks/incoming/{endpoint.pk}/explode/").status_code == 302
    assert client.post(f"/settings/webhooks/incoming/{endpoint.pk + 1}/delete/").status_code == 404
    assert client.get(f"/settings/webhooks/incoming/{endpoint.pk}/delete/").status_code == 405
    endpoint.refresh_from_db()
    assert endpoint.secret == secret and IncomingEndpoint.objects.count() == 1
    assert Event.objects.filter(ticket=None).count() == 1

"""An endpoint whose secret no FIELD_ENCRYPTION_KEYS key opens (the keys changed under it): every
path answers clearly, changes nothing it should not, logs the ids and never a 500 or the secret."""

import logging

import pytest

from helpdesk.models import Agent, Event
from helpdesk.webhooks import outgoing
from helpdesk.webhooks.models import Delivery, IncomingEndpoint, SeenSignature
from tests import factories as f
from tests.webhooks.helpers import call, incoming_endpoint, outgoing_endpoint

pytestmark = pytest.mark.django_db


def test_an_incoming_call_is_refused_with_401_and_changes_nothing(client, keys_changed, caplog):
    support = f.team("Support")
    ticket = f.ticket(support)
    endpoint, secret = incoming_endpoint(team=support)
    keys_changed()
    with caplog.at_level(logging.WARNING):
        response = call(client, endpoint, secret, {"ticket_id": ticket.pk})
    assert response.status_code == 401
    body = response.json()
    assert body["ok"] is False
    assert "the endpoint's secret cannot be decrypted (encryption keys changed?)" in body["error"].lower()
    ticket.refresh_from_db()
    assert ticket.status != "closed" and not Event.objects.filter(ticket=ticket, verb="closed").exists()
    assert not SeenSignature.objects.exists()
    assert IncomingEndpoint.objects.get().last_used_at is None
    logged = caplog.text
    assert f"endpoint {endpoint.pk} ({endpoint.slug})" in logged and "cannot be decrypted" in logged
    assert secret not in logged and endpoint.encrypted_secret not in logged


def test_an_incoming_call_works_again_once_the_secret_is_rotated(client, keys_changed):
    support = f.team("Support")
    ticket = f.ticket(support)
    endpoint, _ = incoming_endpoint(team=support)
    keys_changed()
    ada = f.agent(None, role=Agent.Role.ADMIN)
    client.force_login(ada.user)
    client.post(f"/settings/webhooks/incoming/{endpoint.pk}/rotate/")
    new_secret = IncomingEndpoint.objects.get().secret
    client.logout()
    assert call(client, endpoint, new_secret, {"ticket_id": ticket.pk}).status_code == 200


def test_an_outgoing_delivery_fails_at_once_with_the_reason(settings, keys_changed, caplog):
    settings.WEBHOOK_RETRY_DELAYS = [1, 1, 1]
    endpoint, secret = outgoing_endpoint("http://127.0.0.1:9/hook")
    delivery = Delivery.objects.create(endpoint=endpoint, event_type="ticket.closed", payload={"id": "evt_1"})
    keys_changed()
    with caplog.at_level(logging.WARNING):
        assert outgoing.attempt(delivery.pk) is None  # no retry: it will not get better by itself
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("failed", 1, None)
    assert "secret cannot be decrypted (encryption keys changed?)" in delivery.last_error
    assert f"delivery {delivery.pk}" in caplog.text and f"outgoing endpoint {endpoint.pk}" in caplog.text
    assert secret not in caplog.text


def test_the_delivery_log_shows_why_it_failed(client, keys_changed):
    endpoint, _ = outgoing_endpoint("http://127.0.0.1:9/hook")
    delivery = Delivery.objects.create(endpoint=endpoint, event_type="ticket.closed", payload={"id": "evt_1"})
    keys_changed()
    outgoing.attempt(delivery.pk)
    client.force_login(f.agent(None, role=Agent.Role.ADMIN).user)
    page = client.get("/settings/webhooks/deliveries/")
    assert page.status_code == 200 and "cannot be decrypted" in page.content.decode()


def test_the_settings_page_marks_each_unreadable_endpoint_and_still_renders(client, settings, keys_changed, caplog):
    broken_in, _ = incoming_endpoint(name="Old contact centre")
    broken_out, _ = outgoing_endpoint("http://127.0.0.1:9/hook", name="Old CRM")
    keys_changed()
    fine_in, _ = incoming_endpoint(name="New contact centre")
    client.force_login(f.agent(None, role=Agent.Role.ADMIN).user)
    with caplog.at_level(logging.WARNING):
        response = client.get("/settings/webhooks/")
    assert response.status_code == 200
    html = response.content.decode()

    def row(pk, table):
        start = html.index(f'<tr data-endpoint="{pk}"', html.index(f'id="{table}"'))
        return html[start:html.index("</tr>", start)]

    assert "cannot be decrypted" in row(broken_in.pk, "incoming") and "calls are refused" in row(broken_in.pk, "incoming")
    assert "cannot be decrypted" in row(broken_out.pk, "outgoing") and "deliveries fail" in row(broken_out.pk, "outgoing")
    assert "cannot be decrypted" not in row(fine_in.pk, "incoming")
    assert f"[{broken_in.pk}]" in caplog.text and f"[{broken_out.pk}]" in caplog.text

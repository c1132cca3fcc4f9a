"""A generated signing key whose private half no FIELD_ENCRYPTION_KEYS key opens: the settings page
marks it, and agents get the card's clear "not available" answer instead of a token, never a 500."""

import logging

import pytest

from helpdesk.models import Agent
from integrations.cobrowse import account
from integrations.cobrowse.models import SigningKey
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def active_key_lost(keys_changed):
    """The active generated key, then the encryption keys change under it."""
    key = account.activate(account.generate_key(None), None)
    keys_changed()
    return key


def row_of(html, key_id):
    start = html.index(f'id="key-{key_id}"')
    return html[start:html.index("</tr>", start)]


def test_the_ticket_page_says_cobrowse_is_not_available_and_why(as_alice, support, active_key_lost, caplog):
    ticket = f.ticket(support)
    with caplog.at_level(logging.WARNING):
        response = as_alice.get(f"/tickets/{ticket.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Co-browse is not available" in html
    assert f"Signing key {active_key_lost.key_id} cannot be decrypted (encryption keys changed?)" in html
    assert f"signing key {active_key_lost.key_id} (id {active_key_lost.pk})" in caplog.text


def test_the_token_endpoint_answers_503_with_the_reason(as_alice, active_key_lost):
    for url in ("/cobrowse/token/", "/cobrowse/token/?refresh=1"):
        response = as_alice.get(url)
        assert response.status_code == 503
        body = response.json()
        assert body["ok"] is False and "token" not in body
        assert f"Signing key {active_key_lost.key_id} cannot be decrypted" in body["error"]


def test_the_device_panel_shows_the_reason(as_alice, support, active_key_lost):
    ticket = f.ticket(support)
    response = as_alice.get(f"/cobrowse/tickets/{ticket.pk}/panel/")
    assert response.status_code == 200
    assert "cannot be decrypted" in response.content.decode()


def test_the_bridge_answers_503_not_500(as_alice, support, active_key_lost):
    ticket = f.ticket(support)
    response = as_alice.post(f"/cobrowse/tickets/{ticket.pk}/bridge/",
                             {"event": "session.loaded", "session_id": "0123456789abcdef0123"},
                             content_type="application/json")
    assert response.status_code == 503 and "cannot be decrypted" in response.json()["error"]


def test_confirming_a_link_answers_503_not_500(as_alice, support, active_key_lost):
    ticket = f.ticket(support)
    response = as_alice.post(f"/cobrowse/tickets/{ticket.pk}/confirm/", {"session_id": "0123456789abcdef0123"})
    assert response.status_code == 503 and "cannot be decrypted" in response.json()["error"]
    assert not ticket.session_links.exists()


def test_the_settings_page_marks_the_key_and_offers_no_activation(client, caplog, keys_changed):
    active = account.activate(account.generate_key(None), None)
    pending = account.generate_key(None)
    keys_changed()
    fresh = account.generate_key(None)  # made under the new key: fine
    # A key stored before secrets were sealed under FIELD_ENCRYPTION_KEYS has a blank private half.
    legacy = SigningKey.objects.create(key_id="legacy0123456789", public_pem="-----BEGIN PUBLIC KEY-----",
                                       state=SigningKey.State.RETIRED)
    client.force_login(f.agent(None, role=Agent.Role.ADMIN).user)
    with caplog.at_level(logging.WARNING):
        response = client.get("/settings/cobrowse/")
    assert response.status_code == 200
    html = response.content.decode()
    for key in (active, pending, legacy):
        assert "The private key cannot be decrypted (encryption keys changed?)" in row_of(html, key.key_id)
    assert "generate and activate a new key" in row_of(html, active.key_id)
    assert 'value="activate"' not in row_of(html, pending.key_id) and 'value="discard"' in row_of(html, pending.key_id)
    assert "cannot be decrypted" not in row_of(html, fresh.key_id) and 'value="activate"' in row_of(html, fresh.key_id)
    assert active.key_id in caplog.text and legacy.key_id in caplog.text


def test_activating_an_unreadable_key_is_refused_and_changes_nothing(client, keys_changed):
    pending = account.generate_key(None)
    keys_changed()
    client.force_login(f.agent(None, role=Agent.Role.ADMIN).user)
    response = client.post("/settings/cobrowse/", {"action": "activate", "key_id": pending.key_id}, follow=True)
    assert response.status_code == 200
    assert f"Signing key {pending.key_id} cannot be decrypted" in response.content.decode()
    pending.refresh_from_db()
    assert pending.state == SigningKey.State.PENDING

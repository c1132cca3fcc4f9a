"""Responses that carry a Cobrowse token (the token endpoint, the ticket page, the watch page) tell
browsers and proxies not to store them: after signing out, the back button or a shared cache
must not hand a still-valid token to the next person."""

import pytest

from helpdesk.models import Agent
from tests import factories as f

pytestmark = pytest.mark.django_db


def _no_store(response):
    return "no-store" in response.get("Cache-Control", "")


def test_the_token_endpoint_and_the_ticket_page_are_not_stored(as_alice, support):
    ticket = f.ticket(support)
    token = as_alice.get("/cobrowse/token/")
    assert token.status_code == 200 and "token" in token.json()
    assert _no_store(token)
    page = as_alice.get(f"/tickets/{ticket.pk}/")
    assert page.status_code == 200
    assert _no_store(page)


def test_the_watch_page_is_not_stored(client):
    supervisor = f.agent(None, role=Agent.Role.SUPERVISOR)
    client.force_login(supervisor.user)
    response = client.get("/supervisor/sessions/watch/abc123/")  # whatever Cobrowse answers
    assert response.status_code in (200, 404, 503)
    assert _no_store(response)

"""The bridge endpoint refuses bad input with a clear 4xx and links nothing."""

import json

import pytest
from django.test import Client

from integrations.cobrowse.models import SessionLink
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(client):
    team = f.team()
    agent = f.agent(team)
    ticket = f.ticket(team)
    client.force_login(agent.user)
    return client, ticket


def post(client, ticket, body, raw=False):
    data = body if raw else json.dumps(body)
    return client.post(f"/cobrowse/tickets/{ticket.pk}/bridge/", data, content_type="application/json")


@pytest.mark.parametrize("body,status,message", [
    ("{not json", 400, "not valid JSON"),
    ("[1, 2]", 400, "must be a JSON object"),
    ('{"event": "session.exploded", "session_id": "abc"}', 400, "event must be one of"),
    ('{"event": "session.loaded"}', 400, "session_id is required"),
    ('{"event": "session.loaded", "session_id": 42}', 400, "session_id must be"),
    ('{"event": "session.loaded", "session_id": "../../etc"}', 400, "session_id must be a Cobrowse session id"),
    ('{"event": "tool", "session_id": "a\\u0000b", "tool": "laser"}', 400, "session_id must be a Cobrowse session id"),
    ('{"event": "tool", "session_id": "abc", "tool": "laser"}', 404, "not linked"),
    # Regressions: each of these was a 500.
    ('{"event": ["session.loaded"], "session_id": "abc"}', 400, "event must be one of"),
    ('{"event": {"session.loaded": 1}, "session_id": "abc"}', 400, "event must be one of"),
    ('{"event": "tool", "session_id": "abc", "tool": ["laser"]}', 400, "tool must be one of"),
    ('{"event": "tool", "session_id": "abc", "tool": {"a": 1}}', 400, "tool must be one of"),
    ("[" * 2000 + "]" * 2000, 400, "nested more than 20 levels"),
    ('{"event": "left", "session_id": "abc", "x": ' + "[" * 1500 + "]" * 1500 + "}", 400, "nested more than 20 levels"),
    ("[" * 10_000 + "]" * 10_000, 413, "larger than 4096 bytes"),
    ('{"event": "left", "session_id": "abc", "x": NaN}', 400, "NaN is not allowed"),
    ('{"event": "left", "session_id": "abc", "x": 1e999}', 400, "too large"),
    # A trailing newline passed the old session id check.
    ('{"event": "left", "session_id": "abc\\n"}', 400, "session_id must be a Cobrowse session id"),
])
def test_bad_reports_are_refused(setup, body, status, message):
    client, ticket = setup
    response = post(client, ticket, body, raw=True)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert not SessionLink.objects.exists()


def test_huge_report_is_refused(setup):
    client, ticket = setup
    response = post(client, ticket, {"event": "session.loaded", "session_id": "a" * 10_000})
    assert response.status_code == 413
    assert not SessionLink.objects.exists()


def test_service_unreachable_gives_a_clear_error_and_links_nothing(setup):
    client, ticket = setup
    response = post(client, ticket, {"event": "session.loaded", "session_id": "ses_abcdef123456"})
    assert response.status_code == 409
    assert "could not be reached" in response.json()["error"]
    assert not SessionLink.objects.exists()


def test_bridge_is_csrf_protected(setup):
    _, ticket = setup
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(ticket.team.agents.first().user)
    response = strict.post(f"/cobrowse/tickets/{ticket.pk}/bridge/", "{}", content_type="application/json")
    assert response.status_code == 403


def test_an_agent_of_another_team_gets_404(setup, client):
    _, ticket = setup
    outsider = f.agent(f.team())
    client.force_login(outsider.user)
    response = post(client, ticket, {"event": "session.loaded", "session_id": "ses_abcdef123456"})
    assert response.status_code == 404
    assert client.get(f"/cobrowse/tickets/{ticket.pk}/panel/").status_code == 404


def test_panel_shows_a_clear_message_when_the_service_is_down(setup):
    client, ticket = setup
    response = client.get(f"/cobrowse/tickets/{ticket.pk}/panel/")
    assert response.status_code == 200
    assert b"Co-browse is unavailable: Cobrowse could not be reached." in response.content

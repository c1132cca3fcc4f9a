"""Leaving a watched session always goes back to the sessions list: the view takes no target from
the request, so it cannot be turned into a redirect to another host or from https to http."""

import pytest

from helpdesk.models import Agent
from tests import factories as f

pytestmark = pytest.mark.django_db

LEAVE = "/supervisor/sessions/watch/abc123/leave/"


@pytest.fixture
def supervisor(client):
    client.force_login(f.agent(None, role=Agent.Role.SUPERVISOR).user)
    return client


@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example/", "/\\evil.example/", "\\\\evil.example", "http:evil.example",
    "///evil.example", "javascript:alert(1)", " //evil.example", "\t//evil.example", "https:/evil.example",
    "http://testserver/tickets/", "/tickets/",
])
def test_leaving_goes_back_to_the_sessions_list_whatever_next_says(supervisor, target):
    for secure in (False, True):
        response = supervisor.post(LEAVE, {"next": target}, secure=secure)
        assert response.status_code == 302
        assert response["Location"] == "/supervisor/sessions/"

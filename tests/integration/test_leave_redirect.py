"""Leaving a watched session goes back to a page of the helpdesk only: never another host, and
from an https page never to plain http (the same rule as Django's sign-in `next`)."""

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
])
def test_leaving_never_redirects_to_another_host(supervisor, target):
    response = supervisor.post(LEAVE, {"next": target})
    assert response.status_code == 302
    assert response["Location"] == "/supervisor/sessions/"


def test_leaving_an_https_page_does_not_downgrade_to_http(supervisor):
    response = supervisor.post(LEAVE, {"next": "http://testserver/tickets/"}, secure=True)
    assert response["Location"] == "/supervisor/sessions/"
    response = supervisor.post(LEAVE, {"next": "https://testserver/tickets/"}, secure=True)
    assert response["Location"] == "https://testserver/tickets/"


def test_leaving_goes_back_to_a_page_of_the_helpdesk(supervisor):
    response = supervisor.post(LEAVE, {"next": "/supervisor/sessions/?team=Support"})
    assert response["Location"] == "/supervisor/sessions/?team=Support"

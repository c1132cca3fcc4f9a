"""Who reaches the supervisor and admin pages: agents never (403), supervisors the dashboard and
watching, admins everything. Anonymous visitors are sent to the login page."""

import pytest
from django.test import Client

from helpdesk.models import Agent
from tests import factories as f

pytestmark = pytest.mark.django_db

SUPERVISOR_PAGES = [
    ("get", "/supervisor/sessions/"),
    ("get", "/supervisor/sessions/watch/ses_unknown/"),
    ("post", "/supervisor/sessions/watch/ses_unknown/"),
    ("post", "/supervisor/sessions/watch/ses_unknown/leave/"),
]
ADMIN_PAGES = [
    ("get", "/settings/cobrowse/"),
    ("post", "/settings/cobrowse/"),
    ("get", "/settings/policies/"),
    ("get", "/settings/policies/{team}/"),
    ("post", "/settings/policies/{team}/"),
    ("get", "/settings/webhooks/"),
    ("post", "/settings/webhooks/"),
    ("post", "/settings/webhooks/incoming/999/rotate/"),
    ("post", "/settings/webhooks/outgoing/999/delete/"),
    ("get", "/settings/webhooks/deliveries/"),
    ("post", "/settings/webhooks/deliveries/00000000-0000-0000-0000-000000000000/replay/"),
]
ALLOWED = {
    Agent.Role.AGENT: set(),
    Agent.Role.SUPERVISOR: {path for _, path in SUPERVISOR_PAGES},
    Agent.Role.ADMIN: {path for _, path in SUPERVISOR_PAGES + ADMIN_PAGES},
}


@pytest.fixture
def team():
    return f.team("Support")


def call(client, method, path, team):
    return getattr(client, method)(path.format(team=team.pk))


@pytest.mark.parametrize("role", list(ALLOWED))
@pytest.mark.parametrize("method, path", SUPERVISOR_PAGES + ADMIN_PAGES)
def test_permission_matrix(role, method, path, team):
    client = Client()
    client.force_login(f.agent(team, role=role).user)
    response = call(client, method, path, team)
    if path in ALLOWED[role]:
        assert response.status_code != 403, (role, path)
        assert response.status_code < 500 or response.status_code == 503, (role, path, response.status_code)
    else:
        assert response.status_code == 403, (role, path, response.status_code)


@pytest.mark.parametrize("method, path", SUPERVISOR_PAGES + ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_login(method, path, team):
    response = call(Client(), method, path, team)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_only_permitted_sections_appear_in_the_navigation(team):
    pages = {}
    for role in ALLOWED:
        client = Client()
        client.force_login(f.agent(team, role=role).user)
        pages[role] = client.get("/tickets/").content.decode()
    assert "/supervisor/sessions/" not in pages[Agent.Role.AGENT] and "/settings/" not in pages[Agent.Role.AGENT]
    assert "/supervisor/sessions/" in pages[Agent.Role.SUPERVISOR] and "/settings/" not in pages[Agent.Role.SUPERVISOR]
    assert "/supervisor/sessions/" in pages[Agent.Role.ADMIN] and "/settings/cobrowse/" in pages[Agent.Role.ADMIN]


def test_a_refused_agent_changes_nothing(team):
    from helpdesk.models import Event
    from helpdesk.webhooks.models import IncomingEndpoint, OutgoingEndpoint
    from integrations.cobrowse.models import AccountSettings, JwtPolicy, SigningKey

    client = Client()
    client.force_login(f.agent(team, role=Agent.Role.SUPERVISOR).user)
    client.post("/settings/cobrowse/", {"action": "generate"})
    client.post("/settings/cobrowse/", {"action": "save", "api": "https://evil.example", "license_key": "x"})
    client.post(f"/settings/policies/{team.pk}/", {"action": "save", "policy": '{"version": 3}', "enabled": "on"})
    assert not SigningKey.objects.exists() and not AccountSettings.objects.exists() and not JwtPolicy.objects.exists()
    client.post("/settings/webhooks/", {"kind": "incoming", "in-name": "Sneaky"})
    client.post("/settings/webhooks/", {"kind": "outgoing", "out-name": "Leak", "out-url": "https://evil.example",
                                        "out-events": ["ticket.closed"]})
    assert not IncomingEndpoint.objects.exists() and not OutgoingEndpoint.objects.exists()
    assert not Event.objects.filter(ticket=None).exists()

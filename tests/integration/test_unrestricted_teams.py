"""Teams without a JWT policy: visibly unrestricted, or (COBROWSE_DENY_UNRESTRICTED_TEAMS) given no
token at all, with a clear message wherever an agent token would have been minted."""

import json
import re

import jwt
import pytest

from helpdesk.models import Agent, Event
from integrations.cobrowse import services, tokens
from integrations.cobrowse.models import JwtPolicy, SessionLink
from tests import factories as f

pytestmark = pytest.mark.django_db

POLICY = {"version": 3, "sessions": {}, "devices": {}, "push": {}}


@pytest.fixture
def deny(settings):
    settings.COBROWSE_DENY_UNRESTRICTED_TEAMS = True


@pytest.fixture
def open_team(client):
    team = f.team("Billing")
    agent = f.agent(team, name="Bob Agent")
    client.force_login(agent.user)
    return team, agent, f.ticket(team), client


def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def test_deny_mode_refuses_a_token_to_a_team_without_an_enabled_policy(deny):
    for_none, disabled, with_policy = f.team(), f.team(), f.team()
    JwtPolicy.objects.create(team=disabled, policy=POLICY, enabled=False)
    JwtPolicy.objects.create(team=with_policy, policy=POLICY)
    for agent in (f.agent(for_none), f.agent(disabled), f.agent(None), f.agent(None, role=Agent.Role.SUPERVISOR)):
        with pytest.raises(tokens.NoPolicy):
            tokens.agent_token(agent)
    assert claims(tokens.agent_token(f.agent(with_policy)))["policy"] == POLICY
    assert claims(tokens.agent_token(f.agent(with_policy, role=Agent.Role.ADMIN)))["policy"] == POLICY


def test_deny_mode_names_the_team_or_the_missing_team(deny):
    with pytest.raises(tokens.NoPolicy, match="Co-browse is off for Billing: it has no JWT policy yet"):
        tokens.agent_token(f.agent(f.team("Billing")))
    with pytest.raises(tokens.NoPolicy, match="you are in no team"):
        tokens.agent_token(f.agent(None))


def test_without_deny_mode_a_team_without_policy_is_unrestricted():
    token = claims(tokens.agent_token(f.agent(f.team())))
    assert token["role"] == "agent" and "policy" not in token
    assert "policy" not in claims(tokens.agent_token(f.agent(None)))


def test_deny_mode_leaves_the_helpdesks_own_token_alone(deny):
    token = claims(tokens.admin_token())
    assert token["role"] == "administrator" and "policy" not in token


def test_deny_mode_card_says_why_and_carries_no_token(deny, open_team):
    team, agent, ticket, client = open_team
    response = client.get(f"/tickets/{ticket.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="cobrowse-off"' in html and "Co-browse is off for Billing: it has no JWT policy yet." in html
    assert 'id="cobrowse"' not in html and "data-config" not in html
    assert not re.search(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+", html)


def test_deny_mode_token_endpoint_is_a_403_with_the_reason(deny, open_team):
    team, agent, ticket, client = open_team
    for url in ("/cobrowse/token/", "/cobrowse/token/?refresh=1"):
        response = client.get(url)
        assert response.status_code == 403
        assert response.json() == {"ok": False, "error": str(tokens.NoPolicy(agent))}
    JwtPolicy.objects.create(team=team, policy=POLICY)
    assert claims(client.get("/cobrowse/token/").json()["token"])["policy"] == POLICY


def test_deny_mode_bridge_and_panel_refuse_clearly_and_link_nothing(deny, open_team):
    team, agent, ticket, client = open_team
    report = client.post(f"/cobrowse/tickets/{ticket.pk}/bridge/", json.dumps({"event": "session.loaded", "session_id": "ses_abc123"}),
                         content_type="application/json")
    assert report.status_code == 403 and "no JWT policy" in report.json()["error"]
    assert not SessionLink.objects.exists()
    panel = client.get(f"/cobrowse/tickets/{ticket.pk}/panel/")
    assert panel.status_code == 200 and "Co-browse is off for Billing" in panel.content.decode()


def test_deny_mode_tagging_stops_with_a_recorded_reason(deny, open_team):
    team, agent, ticket, client = open_team
    link = SessionLink.objects.create(ticket=ticket, session_id="ses_abc123", agent=agent, state="active")
    assert services.tag(link.pk) is None
    event = Event.objects.get(ticket=ticket, verb="cobrowse_tag_failed")
    assert "no JWT policy" in event.data["error"]


@pytest.mark.parametrize("deny_mode, wording", [
    (False, "Unrestricted: its agents can see every device and session on the account"),
    (True, "No co-browse: its agents get no token until it has a policy"),
])
def test_policies_page_lists_teams_without_an_enabled_policy(client, settings, deny_mode, wording):
    settings.COBROWSE_DENY_UNRESTRICTED_TEAMS = deny_mode
    restricted, bare, disabled = f.team("Restricted"), f.team("Bare"), f.team("Paused")
    JwtPolicy.objects.create(team=restricted, policy=POLICY)
    JwtPolicy.objects.create(team=disabled, policy=POLICY, enabled=False)
    ada = f.agent(None, role=Agent.Role.ADMIN)
    client.force_login(ada.user)
    html = client.get("/settings/policies/").content.decode()
    listed = re.findall(r'data-unrestricted="([^"]+)">([^<]*)<', html)
    assert [slug for slug, _ in listed] == [bare.slug, disabled.slug, "no-team"]
    assert all(wording in text for _, text in listed[:2])
    assert "1 agent in no team" in listed[2][1]  # Ada herself

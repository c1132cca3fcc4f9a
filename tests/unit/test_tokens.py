import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ImproperlyConfigured

from integrations.cobrowse import tokens
from integrations.cobrowse.models import JwtPolicy
from tests import factories as f

pytestmark = pytest.mark.django_db


def public_key(key_file):
    private = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    return private.public_key()


def decode(token, key_file):
    return jwt.decode(token, public_key(key_file), algorithms=["RS256"], audience="https://cobrowse.io")


def test_agent_token_carries_the_contract_claims(cobrowse_key_file, settings):
    agent = f.agent(f.team(), name="Alice Agent")
    claims = decode(tokens.agent_token(agent), cobrowse_key_file)
    assert claims["iss"] == "test-license"
    assert claims["sub"] == agent.email
    assert claims["aud"] == "https://cobrowse.io"
    assert claims["displayName"] == "Alice Agent"
    assert claims["role"] == "agent"
    assert claims["exp"] - claims["iat"] == settings.COBROWSE_JWT_LIFETIME
    assert "policy" not in claims


def test_team_policy_goes_into_the_token(cobrowse_key_file):
    team = f.team()
    policy = {"version": 3, "devices": {"custom_data": {"region": "eu"}}, "sessions": {}}
    JwtPolicy.objects.create(team=team, policy=policy)
    claims = decode(tokens.agent_token(f.agent(team)), cobrowse_key_file)
    assert claims["policy"] == policy


def test_a_disabled_policy_is_not_sent(cobrowse_key_file):
    team = f.team()
    JwtPolicy.objects.create(team=team, policy={"version": 3}, enabled=False)
    assert "policy" not in decode(tokens.agent_token(f.agent(team)), cobrowse_key_file)


def test_tokens_are_reused_until_close_to_expiry(monkeypatch, settings):
    agent = f.agent(f.team())
    first = tokens.agent_token(agent)
    assert tokens.agent_token(agent) == first
    real = time.time
    monkeypatch.setattr(tokens.time, "time", lambda: real() + settings.COBROWSE_JWT_LIFETIME - tokens.RENEW_MARGIN + 1)
    renewed = tokens.agent_token(agent)
    assert renewed != first
    assert tokens.token_expiry(renewed) > tokens.token_expiry(first)


def test_admin_token_has_the_administrator_role(cobrowse_key_file):
    claims = decode(tokens.admin_token(), cobrowse_key_file)
    assert claims["role"] == "administrator" and "policy" not in claims


def test_missing_key_file_names_the_file_but_never_its_content(settings, tmp_path):
    settings.COBROWSE_PRIVATE_KEY_FILE = tmp_path / "absent.pem"
    tokens.clear_cache()
    with pytest.raises(ImproperlyConfigured, match="absent.pem"):
        tokens.agent_token(f.agent(f.team()))


def test_the_private_key_never_reaches_the_ticket_page(client, cobrowse_key_file):
    team = f.team()
    agent = f.agent(team)
    ticket = f.ticket(team)
    client.force_login(agent.user)
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    key_body = "".join(cobrowse_key_file.read_text().splitlines()[1:-1])
    assert "PRIVATE KEY" not in page
    assert key_body[:64] not in page and key_body[-64:] not in page
    assert 'id="cobrowse"' in page


def test_without_keys_the_ticket_page_still_renders_with_a_message(client, settings, tmp_path):
    settings.COBROWSE_PRIVATE_KEY_FILE = tmp_path / "absent.pem"
    tokens.clear_cache()
    team = f.team()
    agent = f.agent(team)
    ticket = f.ticket(team)
    client.force_login(agent.user)
    response = client.get(f"/tickets/{ticket.pk}/")
    assert response.status_code == 200
    assert b"Co-browse is not available" in response.content


def test_token_endpoint_gives_a_fresh_token(client, cobrowse_key_file):
    agent = f.agent(f.team())
    client.force_login(agent.user)
    data = client.get("/cobrowse/token/").json()
    assert decode(data["token"], cobrowse_key_file)["sub"] == agent.email
    assert data["expires"] > time.time()
    assert client.get("/cobrowse/token/?refresh=1").status_code == 200


def test_watch_token_reads_one_session_for_a_few_minutes(cobrowse_key_file, settings):
    settings.COBROWSE_DENY_UNRESTRICTED_TEAMS = True  # watching does not depend on the team's policy
    sam = f.agent(None, name="Sam Supervisor")
    claims = decode(tokens.watch_token(sam, "ses_abc"), cobrowse_key_file)
    assert claims["role"] is None and claims["sub"] == sam.email and claims["displayName"] == "Sam Supervisor"
    assert claims["policy"] == {"version": 3, "sessions": {"id": "ses_abc", "permissions": ["read"]}}
    assert claims["exp"] - claims["iat"] == tokens.WATCH_LIFETIME <= 300
    assert decode(tokens.watch_token(sam, "ses_def"), cobrowse_key_file)["policy"]["sessions"]["id"] == "ses_def"

"""Admins against the real sandbox: per-team JWT policies (validated, previewed, enforced by the
service) and the Cobrowse account settings with signing-key rotation."""

import json

import jwt
import pytest

from helpdesk.models import Agent, Event
from integrations.cobrowse import account, services, tokens
from integrations.cobrowse.client import CobrowseClient, Forbidden
from integrations.cobrowse.models import AccountSettings, JwtPolicy, SigningKey
from tests import factories as f
from tests.integration.test_cobrowse_flow import report, wait_state

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]

EU_ONLY = {"version": 3, "devices": {"custom_data": {"region": "eu"}}, "sessions": {"custom_data": {"region": "eu"}}, "push": {}}


@pytest.fixture
def office(cobrowse_on_sandbox, client):
    support = f.team("Support")
    ada = f.agent(None, role=Agent.Role.ADMIN, name="Ada Admin")
    alice = f.agent(support, name="Alice Agent")
    client.force_login(ada.user)
    return cobrowse_on_sandbox, support, ada, alice, client


def claims_of(agent):
    """The claims of the agent's token as a new request would mint it (the agent loaded afresh)."""
    return jwt.decode(tokens.agent_token(Agent.objects.get(pk=agent.pk)), options={"verify_signature": False})


def save_policy(client, team, policy, action="save", enabled=True):
    data = {"policy": policy if isinstance(policy, str) else json.dumps(policy), "action": action}
    if enabled:
        data["enabled"] = "on"
    return client.post(f"/settings/policies/{team.pk}/", data)


def test_an_invalid_policy_is_refused_with_clear_errors_and_nothing_changes(office):
    sb, support, ada, alice, client = office
    response = save_policy(client, support, '{"version": 3, "devices": {"custom_data": {"region": ["eu"]}}, "users": {}}')
    assert response.status_code == 422
    html = response.content.decode()
    assert "devices.custom_data.region must be a string or a number." in html
    assert "Unknown key &#x27;users&#x27;" in html
    assert not JwtPolicy.objects.exists()
    assert not Event.objects.filter(verb="policy_changed").exists()


def test_a_saved_policy_is_an_event_and_rides_on_the_teams_next_tokens(office):
    sb, support, ada, alice, client = office
    assert "policy" not in claims_of(alice)
    response = save_policy(client, support, EU_ONLY)
    assert response.status_code == 302
    event = Event.objects.get(verb="policy_changed")
    assert (event.actor, event.ticket, event.data["team"]) == (ada, None, "Support")
    assert event.data["before"] is None and event.data["after"] == {"policy": EU_ONLY, "enabled": True}
    assert claims_of(alice)["policy"] == EU_ONLY
    # Saving the same thing again writes nothing; disabling it is a change.
    save_policy(client, support, EU_ONLY)
    assert Event.objects.filter(verb="policy_changed").count() == 1
    save_policy(client, support, EU_ONLY, enabled=False)
    assert Event.objects.filter(verb="policy_changed").count() == 2
    assert "policy" not in claims_of(alice)
    page = client.get(f"/settings/policies/{support.pk}/")
    assert "changed the JWT policy of Support" in page.content.decode()


def test_preview_lists_what_the_draft_policy_would_show(office):
    sb, support, ada, alice, client = office
    sb.create_device({"user_id": "cust-eu", "name": "Eva", "region": "eu"})
    sb.create_device({"user_id": "cust-us", "name": "Uma", "region": "us"})
    restricted = save_policy(client, support, EU_ONLY, action="preview")
    assert restricted.status_code == 200
    assert [d["custom_data"]["user_id"] for d in restricted.context["preview"]["devices"]] == ["cust-eu"]
    everything = save_policy(client, support, {"version": 3, "devices": {}}, action="preview")
    assert sorted(d["custom_data"]["user_id"] for d in everything.context["preview"]["devices"]) == ["cust-eu", "cust-us"]
    nothing = save_policy(client, support, {"version": 3, "sessions": {}}, action="preview")
    assert nothing.context["preview"]["devices"] == []
    htmx = client.post(f"/settings/policies/{support.pk}/", {"policy": json.dumps(EU_ONLY), "action": "preview"},
                       HTTP_HX_REQUEST="true")
    assert b"<html" not in htmx.content and b'id="preview-count">1<' in htmx.content
    assert not JwtPolicy.objects.exists()  # previews never save
    sb.fault("503")
    down = save_policy(client, support, EU_ONLY, action="preview")
    assert "Cobrowse could not list devices with this policy: Cobrowse is unavailable (503)." in down.content.decode()


def test_a_restricted_agent_cannot_list_or_open_a_device_outside_the_policy(office):
    sb, support, ada, alice, client = office
    save_policy(client, support, EU_ONLY)
    eu = sb.create_device({"user_id": "cust-eu", "region": "eu"})
    us = sb.create_device({"user_id": "cust-us", "region": "us"})
    eu_ticket = f.ticket(support, f.customer(user_id="cust-eu"))
    us_ticket = f.ticket(support, f.customer(user_id="cust-us"))
    agent_page = type(client)()
    agent_page.force_login(alice.user)

    # The device panel of each ticket lists through the service with Alice's token.
    assert [d["id"] for d in agent_page.get(f"/cobrowse/tickets/{eu_ticket.pk}/panel/").context["devices"]] == [eu["id"]]
    assert agent_page.get(f"/cobrowse/tickets/{us_ticket.pk}/panel/").context["devices"] == []
    with pytest.raises(Forbidden):
        services.agent_client(alice).get_device(us["id"])

    # A session on the US device cannot be opened or linked by Alice.
    session = sb.create_code(us["id"])
    with pytest.raises(Forbidden):
        services.agent_client(alice).get_session(session["id"])
    refused = report(agent_page, us_ticket, "session.loaded", session["id"])
    assert refused.status_code == 409 and refused.json()["error"] == "Your Cobrowse policy does not allow this session."
    assert not us_ticket.session_links.exists()

    # The EU one works as usual.
    ok = sb.create_code(eu["id"])
    services.agent_client(alice).update_session(ok["id"], {"agent": "me"})
    wait_state(sb, ok["id"], "authorizing")
    assert report(agent_page, eu_ticket, "session.loaded", ok["id"]).status_code == 200


def test_removing_a_policy_is_recorded(office):
    sb, support, ada, alice, client = office
    save_policy(client, support, EU_ONLY)
    client.post(f"/settings/policies/{support.pk}/", {"action": "remove"})
    assert not JwtPolicy.objects.exists()
    assert Event.objects.filter(verb="policy_removed", actor=ada).count() == 1
    assert "policy" not in claims_of(alice)


# --- account settings and keys -------------------------------------------------------------

def test_connection_settings_are_validated_saved_and_checked(office, settings):
    sb, support, ada, alice, client = office
    bad = client.post("/settings/cobrowse/", {"action": "save", "api": "not a url", "license_key": "a b"})
    assert bad.status_code == 422
    assert "Enter a valid URL." in bad.content.decode() and "A license key has only letters" in bad.content.decode()
    assert not AccountSettings.objects.exists()

    checked = client.post("/settings/cobrowse/", {"action": "check"}, follow=True)
    assert "Connected to " + sb.url in checked.content.decode()

    # The environment says one thing, the admin another: the admin wins, for calls and embeds.
    # The admin may choose the (plain http) sandbox only because the operator allows it.
    settings.COBROWSE_API = "http://127.0.0.1:9"
    settings.COBROWSE_API_ALLOWED = [settings.COBROWSE_API, sb.url]
    settings.DEBUG = True
    settings.COBROWSE_LICENSE_KEY = "wrong-license"
    saved = client.post("/settings/cobrowse/", {"action": "save", "api": sb.url + "/", "license_key": sb.license_key})
    assert saved.status_code == 302
    assert (account.api(), account.license_key()) == (sb.url, sb.license_key)
    assert Event.objects.filter(verb="cobrowse_settings_changed", actor=ada).count() == 1
    assert services.check_connection()["role"] == "administrator"

    client.post("/settings/cobrowse/", {"action": "save", "api": "", "license_key": "unknown-license"})
    failed = client.post("/settings/cobrowse/", {"action": "check"}, follow=True)
    assert "Cobrowse did not accept the helpdesk" in failed.content.decode()


def test_key_rotation_without_downtime(office):
    sb, support, ada, alice, client = office
    old_token = tokens.agent_token(alice)
    assert jwt.get_unverified_header(old_token)["kid"] == account.FILE_KEY_ID

    client.post("/settings/cobrowse/", {"action": "generate"})
    key = SigningKey.objects.get()
    assert key.state == "pending"
    page = client.get("/settings/cobrowse/").content.decode()
    assert key.public_pem.strip().splitlines()[1] in page and "PRIVATE KEY" not in page

    # Not registered with Cobrowse yet: refused, nothing changes.
    refused = client.post("/settings/cobrowse/", {"action": "activate", "key_id": key.key_id}, follow=True)
    assert "Register its public key in the Cobrowse account first" in refused.content.decode()
    key.refresh_from_db()
    assert key.state == "pending" and jwt.get_unverified_header(tokens.agent_token(alice))["kid"] == account.FILE_KEY_ID

    # The admin adds the new public key to the Cobrowse account, next to the old one.
    sb.control("POST", "/accounts", {"license_key": sb.license_key, "public_keys": [sb.public_key_pem, key.public_pem]})
    client.post("/settings/cobrowse/", {"action": "activate", "key_id": key.key_id})
    key.refresh_from_db()
    assert key.state == "active"
    new_token = tokens.agent_token(alice)
    assert jwt.get_unverified_header(new_token)["kid"] == key.key_id
    for token in (old_token, new_token):  # the old token keeps working until it expires
        assert CobrowseClient(lambda refresh=False, t=token: t).me()["email"] == alice.email
    assert list(Event.objects.filter(ticket=None, verb__startswith="signing_key").values_list("verb", flat=True)) == [
        "signing_key_generated", "signing_key_activated"]

    # Rotating again retires the previous generated key.
    client.post("/settings/cobrowse/", {"action": "generate"})
    newer = SigningKey.objects.get(state="pending")
    sb.control("POST", "/accounts", {"license_key": sb.license_key, "public_keys": [key.public_pem, newer.public_pem]})
    client.post("/settings/cobrowse/", {"action": "activate", "key_id": newer.key_id})
    key.refresh_from_db()
    assert key.state == "retired" and key.retired_at is not None
    assert CobrowseClient(lambda refresh=False: new_token).me()["email"] == alice.email
    # Only a pending key can be discarded.
    assert client.post("/settings/cobrowse/", {"action": "discard", "key_id": newer.key_id}, follow=True).status_code == 200
    assert SigningKey.objects.filter(key_id=newer.key_id).exists()

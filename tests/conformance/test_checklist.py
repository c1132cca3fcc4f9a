"""CONTRACT section 11, items 1-47: one test per item, over real HTTP and websockets.

Items 48 and 49 (the SDK's own subscribe/presence handling) run in test_sdk_snippets.py with
the official SDK; 50-67 (embeds, bridge, lifecycle in the browser) in tests/browser/.
"""

import asyncio
import base64
import json
import time
from datetime import datetime, timedelta, timezone

import cbor2
import requests
import jwt
import pytest
import websockets
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

pytestmark = pytest.mark.sandbox
SDK_HEADERS = "authorization,content-type,x-cobrowseplatform,x-cobrowsesdkversion,x-cobrowseapiversion,x-cobrowselicense"


@pytest.fixture
def sb(sandbox):
    sandbox.agent = sandbox.jwt(sub="agent@example.com", role="agent")
    sandbox.admin = sandbox.jwt(sub="admin@example.com", role="administrator")
    return sandbox


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def error(response, status):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["id"], str) and isinstance(body["message"], str)
    return body


def active_session(sb, token=None, custom_data=None):
    """A session that the agent created and a device joined and accepted."""
    device = sb.create_device(custom_data or {"user_id": "u1"})
    s = ok(sb.api("POST", "/api/1/sessions", token or sb.agent, json={"custom_data": custom_data or {"user_id": "u1"}, "agent": "me"}))
    ok(sb.api("POST", f"/api/1/devices/{device['id']}/notifications", token or sb.agent, json={"session": s["id"], "attempt": 1}))
    deadline = time.monotonic() + 5
    while sb.session_raw(s["id"])["state"] == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
    sb.device_action(s["id"], "accept")
    return sb.session_raw(s["id"]), device


# --- REST basics ------------------------------------------------------------------------------

def test_c01_sessions_list_with_and_without_trailing_slash(sb):
    for path in ("/api/1/sessions", "/api/1/sessions/"):
        response = sb.api("GET", path, sb.agent, allow_redirects=False)
        assert response.status_code == 200 and response.json() == []


def test_c02_missing_authorization_is_401_json(sb):
    body = error(sb.api("GET", "/api/1/sessions"), 401)
    assert body["message"] == "jwt must be provided"


def test_c03_expired_token(sb):
    body = error(sb.api("GET", "/api/1/users/me", sb.jwt(lifetime=-5)), 401)
    assert body == {"id": "unauthorized", "message": "jwt expired"}


def test_c04_wrong_algorithm_is_not_an_expiry(sb):
    hs = jwt.encode({"iss": sb.license_key, "sub": "a@b.c", "aud": "https://cobrowse.io", "iat": 1, "exp": 9999999999}, "secret", algorithm="HS256")
    none = jwt.encode({"iss": sb.license_key, "sub": "a@b.c", "aud": "https://cobrowse.io"}, None, algorithm="none")
    for token in (hs, none):
        body = error(sb.api("GET", "/api/1/sessions", token), 401)
        assert body["message"] != "jwt expired"


def test_c05_wrong_audience_unknown_issuer_and_wrong_key(sb):
    assert "audience" in error(sb.api("GET", "/api/1/sessions", sb.jwt(aud="https://example.com")), 401)["message"]
    assert error(sb.api("GET", "/api/1/sessions", sb.jwt(iss="no-such-license")), 401)["message"] == "jwt issuer invalid"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    forged = jwt.encode({"iss": sb.license_key, "sub": "a@b.c", "aud": "https://cobrowse.io", "iat": int(time.time()),
                         "exp": int(time.time()) + 60}, other, algorithm="RS256")
    assert error(sb.api("GET", "/api/1/sessions", forged), 401)["message"] == "invalid signature"
    assert error(sb.api("GET", "/api/1/sessions", "not.a.jwt"), 401)["message"] == "jwt malformed"


def test_c06_first_use_creates_the_user(sb):
    me = ok(sb.api("GET", "/api/1/users/me", sb.jwt(sub="new@example.com", display_name="New Agent")))
    assert me["id"] and me["name"] == "New Agent" and me["email"] == "new@example.com"
    assert all(c.isalnum() or c in "._-" for c in me["notification_token"])
    assert me["notification_url"].startswith("http") and me["notification_url"].endswith("/")


def test_c07_cors_preflight(sb):
    response = sb.api("OPTIONS", "/api/1/sessions", headers={
        "Origin": "http://localhost:8000", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": SDK_HEADERS})
    assert response.status_code == 204
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert all(h in allowed for h in SDK_HEADERS.split(","))
    assert all(m in response.headers["Access-Control-Allow-Methods"] for m in ("GET", "POST", "PUT", "DELETE"))
    assert response.headers["Access-Control-Allow-Origin"] in ("http://localhost:8000", "*")


def test_c08_errors_carry_cors(sb):
    response = sb.api("GET", "/api/1/sessions", headers={"Origin": "http://localhost:8000"})
    assert response.status_code == 401 and response.headers["Access-Control-Allow-Origin"] == "http://localhost:8000"


def test_c09_no_cobrowse_headers_needed(sb):
    assert sb.api("GET", "/api/1/users/me", sb.agent).status_code == 200


# --- sessions ---------------------------------------------------------------------------------

def test_c10_create_session(sb):
    s = ok(sb.api("POST", "/api/1/sessions", sb.agent, json={}))
    assert s["state"] == "pending" and len(s["code"]) == 6 and s["code"].isdigit()
    assert not (len(s["id"]) == 6 and s["id"].isdigit())
    assert s["custom_data"] == {} and s["agents"] == [] and s["full_device"] == s["remote_control"] == "off"
    assert s["created"] and s["updated"] and s["expires"] and s["control_token"] and s["colours"]


def test_c11_create_with_agent_me(sb):
    me = ok(sb.api("GET", "/api/1/users/me", sb.agent))
    s = ok(sb.api("POST", "/api/1/sessions", sb.agent, json={"custom_data": {"user_id": "u1"}, "agent": "me"}))
    assert s["agent"]["id"] == me["id"] and [a["id"] for a in s["agents"]] == [me["id"]]
    assert s["custom_data"]["user_id"] == "u1"


def test_c12_code_lookup_and_expiry(sb):
    s = ok(sb.api("POST", "/api/1/sessions", sb.agent, json={}))
    assert ok(sb.api("GET", f"/api/1/sessions/{s['code']}", sb.agent))["id"] == s["id"]
    sb.advance_clock(20 * 60 + 1)
    later = sb.jwt(iat=int(time.time()) + 1200, lifetime=3600)  # valid on the advanced clock
    error(sb.api("GET", f"/api/1/sessions/{s['code']}", later), 404)
    raw = sb.session_raw(s["id"])
    assert raw["state"] == "ended" and raw["ended_reason"] == "pending_timeout"


def test_c13_unknown_session_is_404(sb):
    assert error(sb.api("GET", "/api/1/sessions/ses_nope", sb.agent), 404)["id"] == "not_found"


def test_c14_end_and_end_again(sb):
    s, _ = active_session(sb)
    ended = ok(sb.api("PUT", f"/api/1/sessions/{s['id']}", sb.agent, json={"state": "ended", "id": s["id"]}))
    assert ended["state"] == "ended" and ended["ended"] and ended["ended_reason"] == "agent_ended"
    again = ok(sb.api("PUT", f"/api/1/sessions/{s['id']}", sb.agent, json={"state": "ended", "id": s["id"]}))
    assert again["ended"] == ended["ended"]


def test_c15_custom_data_merge(sb):
    s, _ = active_session(sb)
    out = ok(sb.api("PUT", f"/api/1/sessions/{s['id']}", sb.agent, json={"custom_data": {"ticket_id": "T1"}, "id": s["id"]}))
    assert out["custom_data"] == {"user_id": "u1", "ticket_id": "T1"}


def test_c15b_malformed_custom_data_changes_nothing(sb):
    s, _ = active_session(sb)
    for bad in ([1, 2], "text", {"nested": {"a": 1}}):
        error(sb.api("PUT", f"/api/1/sessions/{s['id']}", sb.agent, json={"custom_data": bad, "id": s["id"]}), 400)
    assert sb.session_raw(s["id"])["custom_data"] == {"user_id": "u1"}
    error(sb.api("PUT", f"/api/1/sessions/{s['id']}", sb.agent, data="{not json"), 400)


def test_c16_remote_control(sb):
    s, _ = active_session(sb)
    error(sb.api("PUT", f"/api/1/sessions/{s['id']}", sb.agent, json={"remote_control": "on", "id": s["id"]}), 400)
    out = ok(sb.api("PUT", f"/api/1/sessions/{s['id']}", sb.agent, json={"remote_control": "requested", "id": s["id"]}))
    assert out["remote_control"] == "requested"
    sb.device_action(s["id"], "remote_control_accept")
    assert ok(sb.api("GET", f"/api/1/sessions/{s['id']}", sb.agent))["remote_control"] == "on"


def test_c17_full_device(sb):
    s, _ = active_session(sb)
    assert ok(sb.api("PUT", f"/api/1/sessions/{s['id']}", sb.agent, json={"full_device": "requested", "id": s["id"]}))["full_device"] == "requested"
    sb.device_action(s["id"], "full_device_reject")
    assert sb.session_raw(s["id"])["full_device"] == "rejected"


def test_c18_invalid_state_and_changes_after_end(sb):
    s, _ = active_session(sb)
    error(sb.api("PUT", f"/api/1/sessions/{s['id']}", sb.agent, json={"state": "active", "id": s["id"]}), 400)
    ok(sb.api("PUT", f"/api/1/sessions/{s['id']}", sb.agent, json={"state": "ended", "id": s["id"]}))
    body = error(sb.api("PUT", f"/api/1/sessions/{s['id']}", sb.agent, json={"custom_data": {"a": "b"}, "id": s["id"]}), 400)
    assert body["id"] == "session_ended"


def test_c19_state_filter_forms(sb):
    active, _ = active_session(sb)
    pending = ok(sb.api("POST", "/api/1/sessions", sb.agent, json={"agent": "me"}))
    ids = lambda q: {s["id"] for s in ok(sb.api("GET", f"/api/1/sessions?{q}", sb.agent))}  # noqa: E731
    assert ids("state%5B%5D=active") == ids("state=active") == {active["id"]}
    assert ids("state[]=active&state[]=pending") == {active["id"], pending["id"]}
    error(sb.api("GET", "/api/1/sessions?state=bogus", sb.agent), 400)


def test_c20_agent_all_needs_administrator(sb):
    other = sb.jwt(sub="other@example.com")
    theirs, _ = active_session(sb, token=other)
    assert error(sb.api("GET", "/api/1/sessions?state[]=active&agent=all", sb.agent), 403)["id"] == "forbidden"
    assert theirs["id"] in {s["id"] for s in ok(sb.api("GET", "/api/1/sessions?state[]=active&agent=all", sb.admin))}


def test_c21_agents_list_only_their_sessions(sb):
    mine, _ = active_session(sb)
    theirs, _ = active_session(sb, token=sb.jwt(sub="other@example.com"))
    ids = {s["id"] for s in ok(sb.api("GET", "/api/1/sessions", sb.agent))}
    assert mine["id"] in ids and theirs["id"] not in ids


def test_c22_custom_data_filters(sb):
    a = ok(sb.api("POST", "/api/1/sessions", sb.agent, json={"custom_data": {"user_id": "u1", "plan": "pro"}, "agent": "me"}))
    ok(sb.api("POST", "/api/1/sessions", sb.agent, json={"custom_data": {"user_id": "u2"}, "agent": "me"}))
    ok(sb.api("POST", "/api/1/sessions", sb.agent, json={"custom_data": {"user_id": "u1"}, "agent": "me"}))
    ids = lambda q: [s["id"] for s in ok(sb.api("GET", f"/api/1/sessions?{q}", sb.agent))]  # noqa: E731
    assert len(ids("filter_user_id=u1")) == 2
    assert ids("filter_user_id=u1&filter_plan=pro") == [a["id"]]
    assert ids("filter_missing=x") == []


def test_c23_limits(sb):
    sb.bulk_sessions(1100, agent_email="agent@example.com")
    count = lambda q: len(ok(sb.api("GET", f"/api/1/sessions?{q}", sb.agent)))  # noqa: E731
    assert count("limit=2") == 2 and count("limit=5000") == 1000 and count("") == 100
    for bad in ("limit=0", "limit=-3", "limit=abc"):
        assert error(sb.api("GET", f"/api/1/sessions?{bad}", sb.agent), 400)["id"] == "invalid_query"


def test_c24_paging_enumerates_every_session_once(sb):
    sb.bulk_sessions(2500)
    seen, before, pages = [], None, 0
    while True:
        query = "state[]=active&agent=all&limit=1000" + (f"&activated_before={before}" if before else "")
        page = ok(sb.api("GET", f"/api/1/sessions?{query}", sb.admin))
        pages += 1
        seen += [s["id"] for s in page]
        assert [s["activated"] for s in page] == sorted((s["activated"] for s in page), reverse=True)
        if len(page) < 1000:
            break
        before = page[-1]["activated"]
    assert len(seen) == len(set(seen)) == 2500 and pages == 3


def test_listed_sessions_are_the_sessions_as_fetched(sb):
    s, device = active_session(sb)
    ok(sb.api("PUT", f"/api/1/sessions/{s['id']}", sb.agent, json={"id": s["id"], "custom_data": {"plan": "pro"}}))
    sb.bulk_sessions(3, agent_email="agent@example.com")
    listed = {x["id"]: x for x in ok(sb.api("GET", "/api/1/sessions?agent=all", sb.admin))}
    assert len(listed) == 4 and listed[s["id"]]["device_id"] == device["id"] and listed[s["id"]]["agents"]
    for session_id, item in listed.items():
        assert item == ok(sb.api("GET", f"/api/1/sessions/{session_id}", sb.admin))


def test_sandbox_ties_share_a_millisecond_ordered_by_id(sb):
    sb.bulk_sessions(12, same_activated_ms=4)
    page = ok(sb.api("GET", "/api/1/sessions?agent=all&limit=1000", sb.admin))
    stamps = [x["activated"] for x in page]
    assert len(page) == 12 and len(set(stamps)) == 3 and all(stamps.count(at) == 4 for at in stamps)
    assert [(x["activated"], x["id"]) for x in page] == sorted(((x["activated"], x["id"]) for x in page), reverse=True)
    older = ok(sb.api("GET", f"/api/1/sessions?agent=all&activated_before={stamps[0]}", sb.admin))
    assert [x["id"] for x in older] == [x["id"] for x in page[4:]]  # strict: the whole millisecond is left out
    error(sb.api("POST", "/__sandbox__/sessions/bulk", json={"license_key": sb.license_key, "count": 2,
                                                             "same_activated_ms": 3}), 400)


def test_c25_activated_after_and_bad_dates(sb):
    first, _ = active_session(sb)
    time.sleep(0.01)
    second, _ = active_session(sb)
    after = first["activated"]
    ids = {s["id"] for s in ok(sb.api("GET", f"/api/1/sessions?activated_after={after}", sb.agent))}
    assert second["id"] in ids and first["id"] not in ids
    error(sb.api("GET", "/api/1/sessions?activated_before=garbage", sb.agent), 400)


def test_c26_unknown_params_are_ignored(sb):
    active_session(sb)
    plain = ok(sb.api("GET", "/api/1/sessions", sb.agent))
    assert ok(sb.api("GET", "/api/1/sessions?offset=10&whatever=1", sb.agent)) == plain


# --- devices ----------------------------------------------------------------------------------

def test_c27_device_shape(sb):
    sb.create_device({"user_id": "u1"})
    [d] = ok(sb.api("GET", "/api/1/devices", sb.agent))
    for key in ("id", "custom_data", "device", "last_active", "connectable", "notification_token"):
        assert d[key] is not None


def test_c28_device_filters_and_order(sb):
    old = sb.create_device({"user_id": "u1"})
    sb.set_device(old["id"], last_active=600)
    new = sb.create_device({"user_id": "u1"})
    sb.create_device({"user_id": "u2"})
    listed = ok(sb.api("GET", "/api/1/devices?filter_user_id=u1", sb.agent))
    assert [d["id"] for d in listed] == [new["id"], old["id"]]
    assert [d["id"] for d in ok(sb.api("GET", "/api/1/devices?filter_user_id=u1&limit=1", sb.agent))] == [new["id"]]
    cut = listed[0]["last_active"]
    assert [d["id"] for d in ok(sb.api("GET", f"/api/1/devices?filter_user_id=u1&seen_before={cut}", sb.agent))] == [old["id"]]
    assert ok(sb.api("GET", f"/api/1/devices?filter_user_id=u1&seen_after={cut}", sb.agent)) == []


def test_c29_unknown_device_404(sb):
    error(sb.api("GET", "/api/1/devices/dev_nope", sb.agent), 404)


def test_c30_notify_makes_an_online_device_join(sb):
    device = sb.create_device({"user_id": "u1"})
    s = ok(sb.api("POST", "/api/1/sessions", sb.agent, json={"agent": "me"}))
    assert ok(sb.api("POST", f"/api/1/devices/{device['id']}/notifications", sb.agent, json={"session": s["id"], "attempt": 1})) == {}
    deadline = time.monotonic() + 5
    while sb.session_raw(s["id"])["state"] == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sb.session_raw(s["id"])["state"] == "authorizing"
    error(sb.api("POST", f"/api/1/devices/{device['id']}/notifications", sb.agent, json={"session": s["id"]}), 400)
    error(sb.api("POST", f"/api/1/devices/{device['id']}/notifications", sb.agent, json={"session": "ses_nope"}), 404)


def test_c31_device_listing_can_be_disabled(sb):
    sb.control("POST", "/accounts", {"license_key": sb.license_key, "public_keys": [sb.public_key_pem],
                                     "settings": {"device_listing": False}})
    error(sb.api("GET", "/api/1/devices", sb.agent), 403)


# --- policies ---------------------------------------------------------------------------------

def test_c32_device_policy(sb):
    mine, theirs = sb.create_device({"user_id": "u1"}), sb.create_device({"user_id": "u2"})
    token = sb.jwt(policy={"version": 3, "devices": {"custom_data": {"user_id": "u1"}}})
    assert [d["id"] for d in ok(sb.api("GET", "/api/1/devices", token))] == [mine["id"]]
    error(sb.api("GET", f"/api/1/devices/{theirs['id']}", token), 403)
    assert ok(sb.api("GET", "/api/1/sessions", token)) == []


def test_c33_sessions_only_policy(sb):
    sb.create_device({"user_id": "u1"})
    token = sb.jwt(policy={"version": 3, "sessions": {}})
    assert ok(sb.api("POST", "/api/1/sessions", token, json={"agent": "me"}))["id"]
    assert len(ok(sb.api("GET", "/api/1/sessions", token))) == 1
    assert ok(sb.api("GET", "/api/1/devices", token)) == []


def test_c34_empty_policy_grants_nothing(sb):
    s, device = active_session(sb)
    for policy in ({}, {"version": 3}):
        token = sb.jwt(policy=policy)
        assert ok(sb.api("GET", "/api/1/sessions", token)) == [] and ok(sb.api("GET", "/api/1/devices", token)) == []
        error(sb.api("GET", f"/api/1/sessions/{s['id']}", token), 403)
        error(sb.api("GET", f"/api/1/devices/{device['id']}", token), 403)


def test_c35_session_policy_on_create_and_update(sb):
    token = sb.jwt(policy={"version": 3, "sessions": {"custom_data": {"user_id": "u1"}}})
    error(sb.api("POST", "/api/1/sessions", token, json={"custom_data": {"user_id": "u2"}}), 403)
    s = ok(sb.api("POST", "/api/1/sessions", token, json={"custom_data": {"user_id": "u1"}, "agent": "me"}))
    error(sb.api("PUT", f"/api/1/sessions/{s['id']}", token, json={"custom_data": {"user_id": "u2"}, "id": s["id"]}), 403)
    assert sb.session_raw(s["id"])["custom_data"] == {"user_id": "u1"}


def test_c35b_read_only_policy_for_one_session_reads_it_and_changes_nothing(sb):
    """A watch token (CONTRACT 5.1 custom role: role null + policy) naming one session, read only."""
    watched, device = active_session(sb)
    other, _ = active_session(sb)
    watcher = "watcher@example.com"
    ok(sb.api("POST", "/api/1/sessions", sb.jwt(sub=watcher), json={"agent": "me"}))  # the watcher's own session
    token = sb.jwt(sub=watcher, role=None, policy={"version": 3, "sessions": {"id": watched["id"], "permissions": ["read"]}})
    assert ok(sb.api("GET", f"/api/1/sessions/{watched['id']}", token))["state"] == "active"
    assert error(sb.api("GET", f"/api/1/sessions/{other['id']}", token), 403)["id"] == "forbidden"
    assert ok(sb.api("GET", "/api/1/sessions", token)) == []  # its own session is not the one named
    error(sb.api("GET", "/api/1/sessions?agent=all", token), 403)
    assert ok(sb.api("GET", "/api/1/devices", token)) == []
    error(sb.api("GET", f"/api/1/devices/{device['id']}", token), 403)
    for change in ({"state": "ended"}, {"custom_data": {"ticket_id": "T9"}}, {"agent": "me"}, {"remote_control": "requested"}):
        error(sb.api("PUT", f"/api/1/sessions/{watched['id']}", token, json={**change, "id": watched["id"]}), 403)
    error(sb.api("POST", "/api/1/sessions", token, json={}), 403)
    error(sb.api("POST", f"/api/1/devices/{device['id']}/notifications", token, json={"session": watched["id"]}), 403)
    raw = sb.session_raw(watched["id"])
    assert raw["state"] == "active" and raw["custom_data"] == {"user_id": "u1"} and raw["remote_control"] == "off"
    assert watcher not in [a.get("email") for a in raw["agents"]]
    assert ok(sb.api("GET", "/api/1/policy/current", token)) == {"sessions": {"id": watched["id"], "permissions": ["read"]}}


def test_c35c_role_null_needs_a_policy_and_only_the_policy_decides(sb):
    s, _ = active_session(sb)  # claimed by agent@example.com
    policy = {"version": 3, "sessions": {"id": s["id"]}}
    # An agent role keeps its role rule (another agent's session is refused) whatever the policy.
    error(sb.api("GET", f"/api/1/sessions/{s['id']}", sb.jwt(sub="b@example.com", role="agent", policy=policy)), 403)
    custom = sb.jwt(sub="b@example.com", role=None, policy=policy)
    assert ok(sb.api("GET", f"/api/1/sessions/{s['id']}", custom))["id"] == s["id"]
    # role null without a policy is no custom role: the default (agent) rules apply.
    bare = sb.jwt(sub="b@example.com", role=None)
    error(sb.api("GET", f"/api/1/sessions/{s['id']}", bare), 403)
    error(sb.api("GET", "/api/1/sessions?agent=all", bare), 403)


def test_c35d_write_permission_is_needed_to_change_a_session(sb):
    s, _ = active_session(sb)
    mine = {"version": 3, "sessions": {"custom_data": {"user_id": "u1"}}}
    read_only = sb.jwt(policy={**mine, "sessions": {**mine["sessions"], "permissions": ["read"]}})
    error(sb.api("PUT", f"/api/1/sessions/{s['id']}", read_only, json={"state": "ended", "id": s["id"]}), 403)
    assert sb.session_raw(s["id"])["state"] == "active"
    write_only = sb.jwt(policy={**mine, "sessions": {**mine["sessions"], "permissions": ["write"]}})
    error(sb.api("GET", f"/api/1/sessions/{s['id']}", write_only), 403)
    read_write = sb.jwt(policy={**mine, "sessions": {**mine["sessions"], "permissions": ["read", "write"]}})
    assert ok(sb.api("PUT", f"/api/1/sessions/{s['id']}", read_write, json={"state": "ended", "id": s["id"]}))["state"] == "ended"


def test_c35e_a_read_only_embed_socket_cannot_send_tools_to_the_device(sb):
    """The embed's own socket (sandbox-internal): tools act on the customer's page, so they need write."""
    s, device = active_session(sb)
    base = sb.url.replace("http://", "ws://")
    watch = sb.jwt(sub="watcher@example.com", role=None, policy={"version": 3, "sessions": {"id": s["id"], "permissions": ["read"]}})

    async def tools_reaching_the_device(token):
        async with websockets.connect(f"{base}/sockets/device/?license_key={sb.license_key}&device_id={device['id']}") as dev, \
                websockets.connect(f"{base}/sockets/embed/?token={token}") as embed:
            await embed.send(json.dumps({"type": "watch", "session_id": s["id"]}))
            await embed.send(json.dumps({"type": "tool", "session_id": s["id"], "tool": "laser", "data": {"x": 0.5, "y": 0.5}}))
            seen = []
            try:
                while True:
                    message = json.loads(await asyncio.wait_for(dev.recv(), 1.5))
                    seen += [message] if message.get("type") == "tool" else []
            except asyncio.TimeoutError:
                return seen

    assert asyncio.run(tools_reaching_the_device(watch)) == []
    own_read_only = sb.jwt(policy={"version": 3, "sessions": {"id": s["id"], "permissions": ["read"]}})
    assert asyncio.run(tools_reaching_the_device(own_read_only)) == []  # even the session's own agent
    [tool] = asyncio.run(tools_reaching_the_device(sb.agent))  # the session's own agent may
    assert tool["tool"] == "laser" and tool["session_id"] == s["id"]


def test_c36_notify_needs_push(sb):
    device = sb.create_device({"user_id": "u1"})
    without = sb.jwt(policy={"version": 3, "sessions": {}, "devices": {}})
    s = ok(sb.api("POST", "/api/1/sessions", without, json={"agent": "me"}))
    error(sb.api("POST", f"/api/1/devices/{device['id']}/notifications", without, json={"session": s["id"]}), 403)
    with_push = sb.jwt(policy={"version": 3, "sessions": {}, "devices": {}, "push": {}})
    ok(sb.api("POST", f"/api/1/devices/{device['id']}/notifications", with_push, json={"session": s["id"]}))


def test_c37_policy_current(sb):
    assert ok(sb.api("GET", "/api/1/policy/current", sb.agent)) == {}
    policy = {"version": 3, "sessions": {"custom_data": {"user_id": "u1"}}}
    assert ok(sb.api("GET", "/api/1/policy/current", sb.jwt(policy=policy))) == {"sessions": {"custom_data": {"user_id": "u1"}}}


# --- other REST ---------------------------------------------------------------------------------

def test_c38_accounts_and_regions(sb):
    [account] = ok(sb.api("GET", "/api/1/accounts", sb.agent))
    assert account["license_key"] == sb.license_key and isinstance(account["features"], dict) and account["id"]
    assert ok(sb.api("GET", "/api/1/regions/closest", sb.agent)) == {"id": "local", "type": "sockets"}


def test_c39_success_bodies_are_never_empty(sb):
    s = ok(sb.api("POST", "/api/1/sessions", sb.agent, json={"agent": "me"}))
    for method, path, body in (("GET", "/api/1/sessions", None), ("GET", f"/api/1/sessions/{s['id']}", None),
                               ("PUT", f"/api/1/sessions/{s['id']}", {"custom_data": {"a": "b"}, "id": s["id"]})):
        response = sb.api(method, path, sb.agent, json=body)
        assert response.status_code == 200 and response.content


# --- websocket ----------------------------------------------------------------------------------

def ws_url(sb):
    return sb.url.replace("http://", "ws://") + "/sockets/1/ws?X-CobrowsePlatform=agent-sdk&X-CobrowseSDKVersion=2.16.2"


def protocols(notification_token):
    b64 = base64.b64encode(notification_token.encode()).decode().rstrip("=")
    return ["cbor", f"cbio.http.headers.authorization.bearer.{b64}"]


async def frames(ws, count, timeout=5):
    out = []
    for _ in range(count):
        raw = await asyncio.wait_for(ws.recv(), timeout)
        assert isinstance(raw, bytes)
        out.append(cbor2.loads(raw))
    return out


def send(ws, event, data=None, msg_id=None):
    message = {"event": event}
    if data is not None:
        message = {"event": event, "id": msg_id, "data": data}
    return ws.send(cbor2.dumps(message))


def me(sb):
    return ok(sb.api("GET", "/api/1/users/me", sb.agent))


def test_c40_upgrade_selects_cbor(sb):
    async def run():
        async with websockets.connect(ws_url(sb), subprotocols=protocols(me(sb)["notification_token"])) as ws:
            assert ws.subprotocol == "cbor"
    asyncio.run(run())


def test_c41_bad_socket_token_is_refused(sb):
    async def run():
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with websockets.connect(ws_url(sb), subprotocols=protocols("nt.forged")):
                pass
        assert refused.value.response.status_code in (401, 403)
    asyncio.run(run())


def test_c42_c43_c44_subscribed_session_pushes_binary_cbor(sb):
    s, _ = active_session(sb)
    other, _ = active_session(sb)

    async def run():
        token = me(sb)["notification_token"]
        async with websockets.connect(ws_url(sb), subprotocols=protocols(token)) as ws, \
                websockets.connect(ws_url(sb), subprotocols=protocols(token)) as idle:
            await send(ws, "subscribe", s["control_token"], 1)
            await send(ws, "ping")
            assert (await frames(ws, 1)) == [{"ack": 1}]
            await asyncio.to_thread(sb.api, "PUT", f"/api/1/sessions/{s['id']}", sb.agent,
                                    json={"custom_data": {"x": "1"}, "id": s["id"]})
            [pushed] = await frames(ws, 1)
            assert pushed["event"] == "session" and pushed["data"]["id"] == s["id"] and pushed["data"]["custom_data"]["x"] == "1"
            await asyncio.to_thread(sb.api, "PUT", f"/api/1/sessions/{other['id']}", sb.agent,
                                    json={"custom_data": {"x": "2"}, "id": other["id"]})
            with pytest.raises(asyncio.TimeoutError):
                await frames(ws, 1, timeout=0.5)
            with pytest.raises(asyncio.TimeoutError):
                await frames(idle, 1, timeout=0.3)
    asyncio.run(run())


def test_c45_c46_device_presence_and_changes(sb):
    device = sb.create_device({"user_id": "u1"})

    async def run():
        async with websockets.connect(ws_url(sb), subprotocols=protocols(me(sb)["notification_token"])) as ws:
            await send(ws, "subscribe", device["notification_token"], 1)
            await send(ws, "sync-presence", device["id"], 2)
            got = await frames(ws, 3)
            presence = [f for f in got if f.get("event") == "presence"]
            assert presence and presence[0]["data"]["id"] == device["id"] and presence[0]["data"]["present"] is True
            await asyncio.to_thread(sb.set_device, device["id"], online=False)
            [offline] = await frames(ws, 1)
            assert offline["event"] == "presence" and offline["data"]["present"] is False
            await asyncio.to_thread(sb.set_device, device["id"], custom_data={"user_id": "u1", "plan": "pro"})
            [changed] = await frames(ws, 1)
            assert changed["event"] == "device" and changed["data"]["custom_data"]["plan"] == "pro"
    asyncio.run(run())


def test_c47_unknown_events_keep_the_socket_open(sb):
    async def run():
        async with websockets.connect(ws_url(sb), subprotocols=protocols(me(sb)["notification_token"])) as ws:
            await send(ws, "unsubscribe", "whatever", 1)
            await ws.send(b"\xff\x00garbage")
            await send(ws, "ping", "x", 2)
            acks = await frames(ws, 2)
            assert acks == [{"ack": 1}, {"ack": 2}]
    asyncio.run(run())


# --- lifecycle (clock-driven; CONTRACT 11 items 65-67, no browser needed) ------------------------

def test_c65_active_session_times_out_without_liveness(sb):
    s, device = active_session(sb)
    sb.set_device(device["id"], online=False)
    sb.advance_clock(301)
    raw = sb.session_raw(s["id"])
    assert raw["state"] == "ended" and raw["ended_reason"] == "active_timeout"


def test_c66_authorizing_times_out(sb):
    device = sb.create_device({"user_id": "u1"})
    s = sb.create_code(device["id"])
    sb.device_action(s["id"], "join")
    assert sb.session_raw(s["id"])["state"] == "authorizing"
    sb.advance_clock(301)
    assert sb.session_raw(s["id"])["ended_reason"] == "authorizing_timeout"


def test_c67_device_declines_consent(sb):
    device = sb.create_device({"user_id": "u1"})
    s = sb.create_code(device["id"])
    sb.device_action(s["id"], "join")
    sb.device_action(s["id"], "decline")
    raw = sb.session_raw(s["id"])
    assert raw["state"] == "ended" and raw["ended_reason"] == "device_ended"


def test_control_api_refuses_bad_input_and_changes_nothing(sb):
    with pytest.raises(AssertionError, match="400"):
        sb.control("POST", "/faults", {"mode": "explode"})
    with pytest.raises(AssertionError, match="404"):
        sb.control("POST", "/sessions/ses_nope/device-action", {"action": "accept"})
    device = sb.create_device({"user_id": "u1"})
    s = sb.create_code(device["id"])
    with pytest.raises(AssertionError, match="400"):
        sb.device_action(s["id"], "dance")
    assert sb.session_raw(s["id"])["state"] == "pending"


def test_timestamps_are_iso_utc_with_milliseconds(sb):
    s = ok(sb.api("POST", "/api/1/sessions", sb.agent, json={}))
    for key in ("created", "updated", "expires"):
        assert s[key].endswith("Z") and len(s[key]) == 24
        datetime.strptime(s[key], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert datetime.strptime(s["expires"], "%Y-%m-%dT%H:%M:%S.%fZ") - datetime.strptime(s["created"], "%Y-%m-%dT%H:%M:%S.%fZ") == timedelta(minutes=20)


def test_deeply_nested_bodies_are_400_not_500(sb):
    deep = "[" * 100_000 + "]" * 100_000
    error(sb.api("POST", "/api/1/sessions", sb.agent, data=deep), 400)
    response = requests.post(f"{sb.url}/__sandbox__/devices", data=deep, headers={"Content-Type": "application/json"},
                             timeout=30)
    assert response.status_code == 400

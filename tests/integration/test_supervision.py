"""Supervisors against the real sandbox: the account-wide count past the listing limit, per-team
counts, live refresh, and watching a session without ending it."""

import json
import re
import time

import jwt
import pytest
from django.core.cache import cache

from helpdesk.models import Agent, Event
from integrations.cobrowse import monitoring, services, tokens
from integrations.cobrowse.client import Unpageable
from integrations.cobrowse.models import SessionLink
from integrations.cobrowse.supervision import WATCHING
from tests import factories as f
from tests.integration.test_cobrowse_flow import active_session_for, report

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def office(cobrowse_on_sandbox, client):
    support, billing = f.team("Support"), f.team("Billing")
    sam = f.agent(support, role=Agent.Role.SUPERVISOR, name="Sam Supervisor")
    alice = f.agent(support, name="Alice Agent")
    client.force_login(sam.user)
    return cobrowse_on_sandbox, support, billing, sam, alice, client


def test_the_count_pages_past_the_limit_and_splits_by_team(office):
    sb, support, billing, sam, alice, client = office
    t1, t2 = f.ticket(support), f.ticket(billing)
    sb.bulk_sessions(1500, custom_data={"batch": "t1"})
    sb.bulk_sessions(1000, custom_data={"batch": "t2"})
    for ticket, batch in ((t1, "t1"), (t2, "t2")):
        linked = services.admin_client().iter_sessions(state=["active"], agent="all", filter_batch=batch)
        SessionLink.objects.bulk_create(SessionLink(ticket=ticket, session_id=s["id"], state="active") for s in linked)
    sb.bulk_sessions(7, custom_data={"ticket_id": str(t1.pk)})  # tagged by someone, but not linked here
    sb.bulk_sessions(3, state="ended")

    response = client.get("/supervisor/sessions/")
    assert response.status_code == 200
    snapshot = response.context["snapshot"]
    assert snapshot.total == 2507
    assert snapshot.rest_calls == 3  # pages of 1,000
    assert snapshot.by_team == [("Support", 1500), ("Billing", 1000), (monitoring.NOT_LINKED, 7)]
    html = response.content.decode()
    assert "2,507" in html and "1,500" in html
    assert len(response.context["page"]) == 50

    filtered = client.get("/supervisor/sessions/", {"team": "Billing", "page": "3"})
    page = filtered.context["page"]
    assert page.paginator.count == 1000 and page.number == 3
    assert {s.ticket_id for s in page} == {t2.pk}
    assert f'href="/tickets/{t2.pk}/"' in filtered.content.decode()


def test_the_count_is_exact_through_sessions_sharing_an_activation_millisecond(office):
    sb, support, billing, sam, alice, client = office
    sb.bulk_sessions(1200)
    sb.bulk_sessions(2100, same_activated_ms=7, custom_data={"batch": "ties"})  # 7 per ms: pages of 1,000 end inside a group
    admin = services.admin_client()
    listed = list(admin.iter_sessions(state=["active"], agent="all"))
    assert len(listed) == len({s["id"] for s in listed}) == 3300
    tied = [s["activated"] for s in listed if s["custom_data"].get("batch") == "ties"]
    assert len(set(tied)) == 300 and all(tied.count(at) == 7 for at in set(tied))

    # Paging with activated_before=<last item's time> alone skips the rest of each boundary millisecond.
    naive, before = [], None
    while True:
        query = {"state": ["active"], "agent": "all", "limit": 1000, "activated_before": before}
        page = admin.list_sessions(**query)
        naive += page
        if len(page) < 1000:
            break
        before = page[-1]["activated"]
    assert len(naive) < 3300

    response = client.get("/supervisor/sessions/")
    assert response.context["snapshot"].total == 3300 and "3,300" in response.content.decode()
    small = services.admin_client()
    assert small.count_sessions(page_size=10, state=["active"], agent="all") == 3300  # ~330 page boundaries


def test_a_page_all_in_one_millisecond_is_refused_not_miscounted(office):
    sb, support, billing, sam, alice, client = office
    sb.bulk_sessions(25)
    sb.bulk_sessions(12, same_activated_ms=12)
    admin = services.admin_client()
    assert admin.count_sessions(page_size=13, state=["active"], agent="all") == 37
    with pytest.raises(Unpageable, match="At least 10 sessions share the activation millisecond"):
        admin.count_sessions(page_size=10, state=["active"], agent="all")


def test_the_list_refreshes_itself_without_a_full_page(office):
    sb, support, billing, sam, alice, client = office
    sb.bulk_sessions(2)
    full = client.get("/supervisor/sessions/")
    assert b"<html" in full.content and b'hx-trigger="every 10s"' in full.content
    sb.bulk_sessions(3)
    cached = client.get("/supervisor/sessions/", HTTP_HX_REQUEST="true")
    assert b"<html" not in cached.content
    assert cached.context["snapshot"].total == 2  # shared for a few seconds between supervisors
    cache.clear()  # the snapshot has aged out
    fresh = client.get("/supervisor/sessions/", HTTP_HX_REQUEST="true")
    assert fresh.context["snapshot"].total == 5


def test_the_dashboard_says_when_cobrowse_fails(office):
    sb, support, billing, sam, alice, client = office
    sb.fault("503")
    response = client.get("/supervisor/sessions/")
    assert response.status_code == 200
    assert "Cannot count the sessions right now: Cobrowse is unavailable (503)." in response.content.decode()


def test_watching_a_session_records_presence_and_leaving_keeps_it_running(office):
    sb, support, billing, sam, alice, client = office
    ticket = f.ticket(support, f.customer(user_id="cust-7"))
    sid = active_session_for(sb, alice, "cust-7")
    alice_client = type(client)()
    alice_client.force_login(alice.user)
    assert report(alice_client, ticket, "session.loaded", sid).status_code == 200

    started = client.post(f"/supervisor/sessions/watch/{sid}/")
    assert started.status_code == 302 and started["Location"] == f"/supervisor/sessions/watch/{sid}/"
    page = client.get(started["Location"])
    assert page.status_code == 200
    embed = page.context["embed_url"]
    assert embed.startswith(f"{sb.url}/session/{sid}?") and "end_action=none" in embed and "agent_tools=none" in embed
    assert Event.objects.filter(ticket=ticket, verb="cobrowse_watch_started", actor=sam).count() == 1

    other = sb.bulk_sessions(1)
    left = client.post(f"/supervisor/sessions/watch/{sid}/leave/", {"next": "https://evil.example/"})
    assert left.status_code == 302 and left["Location"] == "/supervisor/sessions/"
    assert Event.objects.filter(ticket=ticket, verb="cobrowse_watch_left", actor=sam).count() == 1
    raw = sb.session_raw(sid)
    assert raw["state"] == "active"  # the customer and the agent keep their session

    # Leaving twice, or leaving a session never watched, records nothing.
    client.post(f"/supervisor/sessions/watch/{sid}/leave/")
    assert Event.objects.filter(ticket=ticket, verb="cobrowse_watch_left").count() == 1
    assert other == {"created": 1}


def test_switching_from_one_session_to_the_next(office):
    sb, support, billing, sam, alice, client = office
    ticket = f.ticket(support, f.customer(user_id="cust-8"))
    first = active_session_for(sb, alice, "cust-8")
    second = active_session_for(sb, alice, "cust-8")
    alice_client = type(client)()
    alice_client.force_login(alice.user)
    for sid in (first, second):
        assert report(alice_client, ticket, "session.loaded", sid).status_code == 200
    page = client.get(client.post(f"/supervisor/sessions/watch/{first}/")["Location"])
    assert second in [s.id for s in page.context["others"]]
    assert f'name="leaving" value="{first}"' in page.content.decode()
    switched = client.post(f"/supervisor/sessions/watch/{second}/", {"leaving": first})
    assert switched["Location"] == f"/supervisor/sessions/watch/{second}/"
    client.get(switched["Location"])
    assert list(Event.objects.filter(ticket=ticket, verb__startswith="cobrowse_watch").values_list("verb", "data__session_id")) == [
        ("cobrowse_watch_started", first), ("cobrowse_watch_left", first), ("cobrowse_watch_started", second)]
    assert sb.session_raw(first)["state"] == sb.session_raw(second)["state"] == "active"


@pytest.mark.parametrize("session_id", ["..%2Fetc", "ses_does_not_exist"])
def test_watching_a_forged_or_unknown_session_is_a_404(office, session_id):
    sb, support, billing, sam, alice, client = office
    assert client.get(f"/supervisor/sessions/watch/{session_id}/").status_code == 404
    assert client.post(f"/supervisor/sessions/watch/{session_id}/").status_code == 404
    assert not Event.objects.filter(verb="cobrowse_watch_started").exists()


def test_an_ended_session_is_shown_as_ended_and_not_watched(office):
    sb, support, billing, sam, alice, client = office
    ticket = f.ticket(support, f.customer(user_id="cust-9"))
    sid = active_session_for(sb, alice, "cust-9")
    sb.device_action(sid, "end")
    page = client.get(client.post(f"/supervisor/sessions/watch/{sid}/")["Location"])
    assert page.status_code == 200 and "This session has ended." in page.content.decode()
    assert "embed_url" not in page.context
    assert not Event.objects.filter(verb="cobrowse_watch_started").exists()


def test_a_session_whose_device_claims_a_ticket_is_not_linked_to_it(office):
    sb, support, billing, sam, alice, client = office
    ticket = f.ticket(support, f.customer(user_id="cust-10"))
    claims = active_session_for(sb, alice, "cust-10", extra={"ticket_id": str(ticket.pk)})

    snapshot = client.get("/supervisor/sessions/", {"refresh": "1"}).context["snapshot"]
    assert [(s.id, s.ticket_id, s.team) for s in snapshot.sessions] == [(claims, None, monitoring.NOT_LINKED)]
    assert snapshot.by_team == [(monitoring.NOT_LINKED, 1)]

    page = client.get(f"/supervisor/sessions/watch/{claims}/")
    assert page.status_code == 200 and page.context["ticket"] is None
    assert f'/tickets/{ticket.pk}/' not in page.content.decode()
    client.post(f"/supervisor/sessions/watch/{claims}/leave/")
    assert not Event.objects.filter(ticket=ticket, verb__startswith="cobrowse_watch").exists()


# --- least privilege: the browser never gets an administrator token ----------------------------

def claims(token):
    return jwt.decode(token, options={"verify_signature": False})


def tokens_in(html):
    """Every JWT-looking string in a page (its HTML, the embed URL, the JSON config)."""
    return set(re.findall(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+", html))


def watched_session(office, user_id):
    sb, support, billing, sam, alice, client = office
    ticket = f.ticket(support, f.customer(user_id=user_id))
    sid = active_session_for(sb, alice, user_id)
    SessionLink.objects.create(ticket=ticket, session_id=sid, agent=alice, state="active")
    return ticket, sid


def test_looking_at_the_watch_page_records_and_stores_nothing(office):
    sb, support, billing, sam, alice, client = office
    ticket, sid = watched_session(office, "cust-10")
    page = client.get(f"/supervisor/sessions/watch/{sid}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="start-watching"' in html and f'action="/supervisor/sessions/watch/{sid}/"' in html
    assert "embed_url" not in page.context and not tokens_in(html)  # no token before the POST
    assert not Event.objects.filter(verb__startswith="cobrowse_watch").exists()
    assert WATCHING not in client.session
    assert client.post(f"/supervisor/sessions/watch/{sid}/token/").status_code == 403  # not watching: no token


def test_the_watch_page_carries_only_a_short_read_only_token_for_that_session(office):
    sb, support, billing, sam, alice, client = office
    ticket, sid = watched_session(office, "cust-11")
    other = active_session_for(sb, alice, "cust-12")
    client.post(f"/supervisor/sessions/watch/{sid}/")
    assert Event.objects.filter(ticket=ticket, verb="cobrowse_watch_started", actor=sam).count() == 1
    page = client.get(f"/supervisor/sessions/watch/{sid}/")
    html = page.content.decode()
    config = json.loads(page.context["watch_config"])
    found = tokens_in(html) | {config["token"]} | tokens_in(config["embedUrl"])
    assert found and all(claims(t)["role"] != "administrator" for t in found)
    assert len({config["token"], *tokens_in(config["embedUrl"])}) == 1
    token = config["token"]
    watch = claims(token)
    assert watch["role"] is None and watch["sub"] == sam.email
    assert watch["policy"] == {"version": 3, "sessions": {"id": sid, "permissions": ["read"]}}
    assert 0 < watch["exp"] - time.time() <= tokens.WATCH_LIFETIME
    # A second GET does not record again.
    assert Event.objects.filter(verb="cobrowse_watch_started").count() == 1

    # What the sandbox lets that token do.
    assert sb.api("GET", f"/api/1/sessions/{sid}", token).json()["state"] == "active"
    assert sb.api("GET", f"/api/1/sessions/{other}", token).status_code == 403
    assert sb.api("GET", "/api/1/sessions", token).json() == []
    assert sb.api("GET", "/api/1/devices", token).json() == []
    assert sb.api("PUT", f"/api/1/sessions/{sid}", token, json={"id": sid, "state": "ended"}).status_code == 403
    assert sb.api("PUT", f"/api/1/sessions/{sid}", token, json={"id": sid, "remote_control": "requested"}).status_code == 403
    assert sb.session_raw(sid)["state"] == "active"


def test_the_watch_token_is_refreshed_only_for_the_session_being_watched(office):
    sb, support, billing, sam, alice, client = office
    ticket, sid = watched_session(office, "cust-13")
    other = active_session_for(sb, alice, "cust-14")
    client.post(f"/supervisor/sessions/watch/{sid}/")
    fresh = client.post(f"/supervisor/sessions/watch/{sid}/token/")
    assert fresh.status_code == 200
    data = fresh.json()
    assert claims(data["token"])["policy"]["sessions"]["id"] == sid and data["expires"] == claims(data["token"])["exp"]
    refused = client.post(f"/supervisor/sessions/watch/{other}/token/")
    assert refused.status_code == 403 and refused.json()["ok"] is False
    assert client.get(f"/supervisor/sessions/watch/{sid}/token/").status_code == 405
    client.post(f"/supervisor/sessions/watch/{sid}/leave/")
    assert client.post(f"/supervisor/sessions/watch/{sid}/token/").status_code == 403
    # An agent cannot ask at all.
    agent_client = type(client)()
    agent_client.force_login(alice.user)
    assert agent_client.post(f"/supervisor/sessions/watch/{sid}/token/").status_code == 403


def test_starting_to_watch_needs_a_csrf_token(office):
    sb, support, billing, sam, alice, client = office
    ticket, sid = watched_session(office, "cust-15")
    strict = type(client)(enforce_csrf_checks=True)
    strict.force_login(sam.user)
    assert strict.post(f"/supervisor/sessions/watch/{sid}/").status_code == 403
    assert not Event.objects.filter(verb="cobrowse_watch_started").exists()

"""The ticket co-browse flow against the real sandbox over HTTP: verify, link, tag, end on close."""

import json
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from helpdesk import services as helpdesk
from helpdesk.models import Event
from integrations.cobrowse import services, tokens
from integrations.cobrowse.client import CobrowseClient, TokenExpired, Unavailable
from integrations.cobrowse.models import JwtPolicy, SessionLink
from tests import factories as f

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]


def wait_state(sb, session_id, state, timeout=15):
    deadline = time.monotonic() + timeout
    while sb.session_raw(session_id)["state"] != state:
        assert time.monotonic() < deadline, f"session never became {state}"
        time.sleep(0.05)


def run_tasks(include_delayed=False):
    """Run every queued task once, as the worker would (delayed retries too if asked)."""
    if include_delayed:
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0)


@pytest.fixture
def world(cobrowse_on_sandbox, client):
    sb = cobrowse_on_sandbox
    team = f.team("Support")
    agent = f.agent(team, name="Alice Agent")
    customer = f.customer(user_id="cust-42", name="Carla")
    ticket = f.ticket(team, customer, subject="Checkout broken")
    client.force_login(agent.user)
    return sb, agent, ticket, client


def active_session_for(sb, agent, user_id, extra=None):
    """A customer device shares its screen with the agent, as through the /connect embed."""
    device = sb.create_device({"user_id": user_id, "user_name": "Carla", **(extra or {})})
    session = sb.create_code(device["id"])
    services.agent_client(agent).update_session(session["id"], {"agent": "me"})
    wait_state(sb, session["id"], "authorizing")  # the online device joins once an agent claims it
    sb.device_action(session["id"], "accept")
    return session["id"]


def pushed_session(sb, agent, device_id=None, custom_data=None):
    """The agent creates a session with custom_data of its choosing and, given a device, pushes it
    there (the device joins and accepts); without one, the session waits with no device."""
    created = sb.api("POST", "/api/1/sessions", token=tokens.agent_token(agent),
                     json={"custom_data": custom_data or {}, "agent": "me"})
    assert created.status_code == 200, created.text
    sid = created.json()["id"]
    if device_id:
        services.agent_client(agent).notify_device(device_id, sid)
        wait_state(sb, sid, "authorizing")
        sb.device_action(sid, "accept")
    return sid


def confirm(client, ticket, session_id):
    return client.post(f"/cobrowse/tickets/{ticket.pk}/confirm/", {"session_id": session_id})


def report(client, ticket, event, session_id, **extra):
    return client.post(f"/cobrowse/tickets/{ticket.pk}/bridge/", json.dumps({"event": event, "session_id": session_id, **extra}),
                       content_type="application/json")


def verbs(ticket):
    return list(Event.objects.filter(ticket=ticket).values_list("verb", flat=True))


def test_verified_session_is_linked_tagged_and_keeps_the_devices_custom_data(world):
    sb, agent, ticket, client = world
    sid = active_session_for(sb, agent, "cust-42")
    response = report(client, ticket, "session.loaded", sid)
    assert response.status_code == 200, response.content
    assert response.json()["created"] is True
    link = SessionLink.objects.get(session_id=sid)
    assert (link.ticket, link.agent, link.state) == (ticket, agent, "active")
    run_tasks()
    data = sb.session_raw(sid)["custom_data"]
    assert data["ticket_id"] == str(ticket.pk) and data["ticket_url"].endswith(f"/tickets/{ticket.pk}/")
    assert data["user_id"] == "cust-42" and data["user_name"] == "Carla"
    assert {"cobrowse_linked", "cobrowse_tagged"} <= set(verbs(ticket))
    # Reporting it again links nothing new.
    assert report(client, ticket, "session.loaded", sid).json()["created"] is False
    assert SessionLink.objects.count() == 1


def test_forged_session_id_is_refused_and_nothing_is_linked(world):
    sb, agent, ticket, client = world
    response = report(client, ticket, "session.loaded", "ses_doesnotexist0000000000")
    assert response.status_code == 409
    assert "does not know this session" in response.json()["error"]
    assert not SessionLink.objects.exists()


def test_session_with_another_customers_device_is_refused(world):
    sb, agent, ticket, client = world
    sid = active_session_for(sb, agent, "someone-else")
    response = report(client, ticket, "session.loaded", sid)
    assert response.status_code == 409 and "another customer" in response.json()["error"]
    assert not SessionLink.objects.exists()
    assert "ticket_id" not in sb.session_raw(sid)["custom_data"]


def test_session_with_empty_custom_data_on_another_customers_device_is_refused(world, caplog):
    sb, agent, ticket, client = world
    elsewhere = sb.create_device({"user_id": "someone-else"})
    sid = pushed_session(sb, agent, elsewhere["id"])
    assert sb.session_raw(sid)["custom_data"] == {}
    for event in ("session.loaded", "session.updated"):
        response = report(client, ticket, event, sid)
        assert response.status_code == 409 and "another customer's device" in response.json()["error"]
        assert "confirm_url" not in response.json()
    assert not SessionLink.objects.exists()
    assert "cobrowse_linked" not in verbs(ticket)
    refusal = next(r.getMessage() for r in caplog.records if "link refused" in r.getMessage())
    assert f"ticket={ticket.pk}" in refusal and f"session={sid}" in refusal and f"agent={agent.pk}" in refusal
    assert "eyJ" not in refusal  # never a token


def test_session_naming_another_customer_is_refused_even_on_the_customers_own_device(world):
    sb, agent, ticket, client = world
    own = sb.create_device({"user_id": "cust-42"})
    sid = pushed_session(sb, agent, own["id"], custom_data={"user_id": "someone-else"})
    response = report(client, ticket, "session.loaded", sid)
    assert response.status_code == 409 and "another customer's device" in response.json()["error"]
    assert confirm(client, ticket, sid).status_code == 409
    assert not SessionLink.objects.exists()


def test_session_with_empty_custom_data_on_the_customers_device_is_linked(world):
    sb, agent, ticket, client = world
    own = sb.create_device({"user_id": "cust-42"})
    sid = pushed_session(sb, agent, own["id"])
    response = report(client, ticket, "session.loaded", sid)
    assert response.status_code == 200 and response.json()["created"] is True
    assert SessionLink.objects.get(session_id=sid).ticket == ticket
    assert "cobrowse_link_confirmed" not in verbs(ticket)


def test_session_without_a_device_needs_confirmation_and_the_confirmation_is_recorded(world):
    sb, agent, ticket, client = world
    sid = pushed_session(sb, agent)  # pending, no device has joined it yet
    response = report(client, ticket, "session.loaded", sid)
    assert response.status_code == 409
    answer = response.json()
    assert answer["ok"] is False and answer["state"] == "needs_confirmation" and answer["reason"] == "no_device"
    assert answer["error"].startswith("This session's device could not be matched to Carla")
    assert answer["error"].endswith("Link it anyway?")
    assert answer["confirm_url"] == f"/cobrowse/tickets/{ticket.pk}/confirm/" and answer["session_id"] == sid
    assert not SessionLink.objects.exists()

    confirmed = confirm(client, ticket, sid)
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["created"] is True
    assert SessionLink.objects.get(session_id=sid).ticket == ticket
    event = Event.objects.get(ticket=ticket, verb="cobrowse_link_confirmed")
    assert event.actor == agent and event.data == {"session_id": sid, "reason": "no_device"}
    assert verbs(ticket).count("cobrowse_linked") == 1
    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Alice Agent confirmed a session whose device could not be matched to Carla (no device had joined it yet)" in page

    # Confirming again, or the page reporting it again, links nothing new and records nothing more.
    assert confirm(client, ticket, sid).json()["created"] is False
    assert report(client, ticket, "session.loaded", sid).status_code == 200
    assert verbs(ticket).count("cobrowse_link_confirmed") == 1 and SessionLink.objects.count() == 1


def test_a_device_that_does_not_name_its_customer_needs_confirmation(world):
    sb, agent, ticket, client = world
    anonymous = sb.create_device({"user_name": "Carla"})
    sid = pushed_session(sb, agent, anonymous["id"])
    response = report(client, ticket, "session.loaded", sid)
    assert response.status_code == 409 and response.json()["reason"] == "device_without_user_id"
    assert not SessionLink.objects.exists()


def test_a_device_the_agents_policy_hides_needs_confirmation(world):
    sb, agent, ticket, client = world
    JwtPolicy.objects.create(team=agent.team, policy={
        "version": 3, "sessions": {}, "devices": {"custom_data": {"user_id": "nobody"}}})
    own = sb.create_device({"user_id": "cust-42"})
    session = sb.create_code(own["id"])  # the device's own session names it as cust-42
    response = report(client, ticket, "session.loaded", session["id"])
    assert response.status_code == 409 and response.json()["reason"] == "device_forbidden"
    assert not SessionLink.objects.exists()
    assert confirm(client, ticket, session["id"]).status_code == 200
    assert Event.objects.get(verb="cobrowse_link_confirmed").data["reason"] == "device_forbidden"


def test_confirming_a_session_on_another_customers_device_is_still_refused(world):
    sb, agent, ticket, client = world
    elsewhere = sb.create_device({"user_id": "someone-else"})
    sid = pushed_session(sb, agent, elsewhere["id"])
    response = confirm(client, ticket, sid)
    assert response.status_code == 409 and "another customer's device" in response.json()["error"]
    assert not SessionLink.objects.exists()
    assert not {"cobrowse_link_confirmed", "cobrowse_linked"} & set(verbs(ticket))
    assert "ticket_id" not in sb.session_raw(sid)["custom_data"]


def test_confirm_refuses_bad_input_and_other_teams_tickets(world):
    sb, agent, ticket, client = world
    sid = pushed_session(sb, agent)
    url = f"/cobrowse/tickets/{ticket.pk}/confirm/"
    for body in ({}, {"session_id": ""}, {"session_id": "../etc"}, {"session_id": sid + "\n"}, {"session_id": "a\x00b"}):
        response = client.post(url, body)
        assert response.status_code == 400 and "not a Cobrowse session id" in response.json()["error"], body
    assert client.get(url, {"session_id": sid}).status_code == 405
    assert confirm(client, ticket, "ses_doesnotexist0000000000").status_code == 409
    theirs = f.ticket(f.team("Billing"), ticket.customer)
    assert confirm(client, theirs, sid).status_code == 404
    assert not SessionLink.objects.exists()


def test_session_already_linked_to_another_ticket_is_refused(world):
    sb, agent, ticket, client = world
    other = f.ticket(ticket.team, ticket.customer, subject="Another one")
    sid = active_session_for(sb, agent, "cust-42")
    assert report(client, other, "session.loaded", sid).status_code == 200
    response = report(client, ticket, "session.loaded", sid)
    assert response.status_code == 409 and f"#{other.pk}" in response.json()["error"]


def test_closing_the_ticket_ends_every_linked_session_once(world):
    sb, agent, ticket, client = world
    sids = [active_session_for(sb, agent, "cust-42") for _ in range(2)]
    for sid in sids:
        report(client, ticket, "session.loaded", sid)
    helpdesk.close_ticket(ticket, agent)
    run_tasks()
    for sid in sids:
        raw = sb.session_raw(sid)
        assert raw["state"] == "ended" and raw["ended_reason"] == "agent_ended"
    assert verbs(ticket).count("cobrowse_ended") == 2
    assert all(link.ended_at for link in SessionLink.objects.all())
    run_tasks(include_delayed=True)  # nothing left to do; no second end
    assert verbs(ticket).count("cobrowse_ended") == 2


def test_close_during_an_outage_ends_the_session_after_recovery(world):
    sb, agent, ticket, client = world
    sid = active_session_for(sb, agent, "cust-42")
    report(client, ticket, "session.loaded", sid)
    run_tasks()
    sb.fault("503")
    helpdesk.close_ticket(ticket, agent)
    run_tasks()
    link = SessionLink.objects.get(session_id=sid)
    assert link.ended_at is None and link.end_attempts == 1 and "unavailable" in link.last_error
    assert DBTaskResult.objects.filter(status="READY").count() == 1  # the retry, with a backoff
    run_tasks(include_delayed=True)
    assert SessionLink.objects.get(session_id=sid).ended_at is None
    sb.clear_faults()
    assert sb.session_raw(sid)["state"] == "active"
    run_tasks(include_delayed=True)
    link.refresh_from_db()
    assert link.ended_at is not None and link.state == "ended"
    assert sb.session_raw(sid)["state"] == "ended"
    assert verbs(ticket).count("cobrowse_ended") == 1
    assert "cobrowse_end_failed" in verbs(ticket)


def test_reconcile_requeues_an_end_that_a_dead_worker_left_behind(world):
    sb, agent, ticket, client = world
    sid = active_session_for(sb, agent, "cust-42")
    report(client, ticket, "session.loaded", sid)
    helpdesk.close_ticket(ticket, agent)
    # The worker died holding the task: it will never run again.
    DBTaskResult.objects.all().delete()
    SessionLink.objects.filter(session_id=sid).update(end_requested_at=timezone.now() - timedelta(minutes=5))
    assert services.reconcile()["requeued"] == 1
    run_tasks()
    assert sb.session_raw(sid)["state"] == "ended"


def test_reconcile_ends_live_links_of_a_closed_ticket_and_marks_sessions_ended_elsewhere(world):
    sb, agent, ticket, client = world
    left_open = active_session_for(sb, agent, "cust-42")
    report(client, ticket, "session.loaded", left_open)
    other = f.ticket(ticket.team, ticket.customer)
    ended_by_customer = active_session_for(sb, agent, "cust-42")
    report(client, other, "session.loaded", ended_by_customer)
    sb.device_action(ended_by_customer, "end")
    # Closed behind the helpdesk's back: no end was requested for its link.
    type(ticket).objects.filter(pk=ticket.pk).update(status="closed")
    result = services.reconcile()
    assert result["ended_closed"] == 1 and result["marked_ended"] == 1
    run_tasks()
    assert sb.session_raw(left_open)["state"] == "ended"
    assert SessionLink.objects.get(session_id=left_open).state == "ended"
    assert SessionLink.objects.get(session_id=ended_by_customer).state == "ended"


def test_reconcile_ignores_a_ticket_id_the_device_set_on_a_closed_ticket(world):
    sb, agent, ticket, client = world
    helpdesk.close_ticket(ticket, agent)
    claims = active_session_for(sb, agent, "cust-42", extra={"ticket_id": str(ticket.pk)})
    assert sb.session_raw(claims)["custom_data"]["ticket_id"] == str(ticket.pk)
    assert services.reconcile() == {"requeued": 0, "ended_closed": 0, "marked_ended": 0}
    run_tasks()
    assert not SessionLink.objects.exists()
    assert sb.session_raw(claims)["state"] == "active"
    assert "cobrowse_end_requested" not in verbs(ticket)


def test_client_typed_errors_timeouts_and_token_renewal(world, settings):
    sb, agent, ticket, client = world
    minted = []

    def source(refresh=False):
        token = sb.jwt(sub=agent.email, lifetime=300)
        minted.append(refresh)
        return token

    cobrowse = CobrowseClient(source)
    sb.fault("expired_token", count=1)
    assert cobrowse.list_sessions() == []
    assert minted == [False, True]  # expired once, renewed, retried once

    expired = CobrowseClient(lambda refresh=False: sb.jwt(sub=agent.email, lifetime=-10))
    with pytest.raises(TokenExpired):
        expired.me()

    sb.fault("503")
    with pytest.raises(Unavailable):
        cobrowse.list_devices()
    sb.clear_faults()

    settings.COBROWSE_READ_TIMEOUT = 0.5
    sb.fault("hang", seconds=3, count=3)
    with pytest.raises(Unavailable, match="in time"):
        cobrowse.me()
    sb.clear_faults()


def test_counting_pages_past_the_listing_limit(world):
    sb, agent, ticket, client = world
    sb.bulk_sessions(2500)
    admin = services.admin_client()
    assert admin.count_sessions(state=["active"], agent="all") == 2500
    assert admin.calls == 3


@pytest.mark.parametrize("mode,message", [
    ("503", "Cobrowse is unavailable (503)."),
    ("hang", "Cobrowse did not answer in time."),
])
def test_the_device_panel_says_clearly_when_cobrowse_fails(world, settings, mode, message):
    sb, agent, ticket, client = world
    settings.COBROWSE_READ_TIMEOUT = 0.5
    sb.fault(mode, seconds=2)
    response = client.get(f"/cobrowse/tickets/{ticket.pk}/panel/")
    assert response.status_code == 200
    assert f"Co-browse is unavailable: {message}" in response.content.decode()
    sb.clear_faults()
    # The ticket page itself never waits for Cobrowse.
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 200


def test_an_expired_token_is_renewed_and_the_link_still_made(world):
    sb, agent, ticket, client = world
    sid = active_session_for(sb, agent, "cust-42")
    sb.fault("expired_token", count=1)
    response = report(client, ticket, "session.loaded", sid)
    assert response.status_code == 200, response.content
    assert SessionLink.objects.filter(session_id=sid, ticket=ticket).exists()

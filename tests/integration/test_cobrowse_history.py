"""What a ticket's Activity says about a co-browse session, recorded from the real sandbox's states,
and one event for one change however many reports of it arrive together."""

import threading

import pytest

from helpdesk import services as helpdesk
from helpdesk.events import Verb
from helpdesk.models import Event
from integrations.cobrowse import services
from integrations.cobrowse.models import SessionLink
from tests import factories as f
from tests.integration.test_cobrowse_flow import report, run_tasks, wait_state

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(cobrowse_on_sandbox, client):
    team = f.team("Support")
    alice = f.agent(team, name="Alice Martin")
    ticket = f.ticket(team, f.customer(user_id="cust-7", name="Maria Lopez"), subject="Checkout")
    client.force_login(alice.user)
    return cobrowse_on_sandbox, alice, ticket, client


def waiting_session(sb, agent, user_id="cust-7"):
    """A customer device shares its screen; the session waits for the customer's consent."""
    device = sb.create_device({"user_id": user_id, "user_name": "Maria"})
    session = sb.create_code(device["id"])
    services.agent_client(agent).update_session(session["id"], {"agent": "me"})
    wait_state(sb, session["id"], "authorizing")
    return session["id"]


def ok(response):
    assert response.status_code == 200, response.content
    return response


def activity(client, ticket):
    return client.get(f"/tickets/{ticket.pk}/").content.decode()


def history(ticket):
    return [(e.verb, e.sentence) for e in Event.objects.filter(ticket=ticket).exclude(verb=Verb.OPENED)]


def test_a_session_reads_from_consent_to_the_agents_end(world):
    sb, alice, ticket, client = world
    sid = waiting_session(sb, alice)
    ok(report(client, ticket, "session.loaded", sid))
    sb.device_action(sid, "accept")
    ok(report(client, ticket, "session.updated", sid))
    ok(report(client, ticket, "tool", sid, tool="laser"))
    services.agent_client(alice).update_session(sid, {"remote_control": "requested"})
    ok(report(client, ticket, "tool", sid, tool="remote_control"))
    sb.device_action(sid, "remote_control_accept")
    ok(report(client, ticket, "session.updated", sid))
    services.agent_client(alice).end_session(sid)
    ok(report(client, ticket, "tool", sid, tool="end"))
    ok(report(client, ticket, "session.updated", sid))  # the SDK's update of the same end

    assert history(ticket) == [
        (Verb.COBROWSE_LINKED, "Alice Martin started co-browsing with Maria Lopez"),
        (Verb.COBROWSE_CONSENT_ASKED, "Maria Lopez was asked to allow the co-browse session"),
        (Verb.COBROWSE_CONSENT_ALLOWED, "Maria Lopez allowed the co-browse session"),
        (Verb.COBROWSE_TOOL, "Alice Martin used the laser"),
        (Verb.COBROWSE_REMOTE_CONTROL_REQUESTED, "Alice Martin requested remote control"),
        (Verb.COBROWSE_REMOTE_CONTROL_ALLOWED, "Alice Martin requested remote control; Maria Lopez allowed it"),
        (Verb.COBROWSE_ENDED, "Session ended by Alice Martin"),
    ]
    link = SessionLink.objects.get(session_id=sid)
    assert link.activated_at is not None and link.ended_at >= link.activated_at
    page = activity(client, ticket)
    assert "Session ended by Alice Martin" in page and "cobrowse" not in page.split('id="ticket-events"')[1]


def test_the_customer_declining_and_ending_reads_as_the_customer(world):
    sb, alice, ticket, client = world
    declined = waiting_session(sb, alice)
    ok(report(client, ticket, "session.loaded", declined))
    sb.device_action(declined, "decline")
    ok(report(client, ticket, "session.updated", declined))
    ended = waiting_session(sb, alice)
    ok(report(client, ticket, "session.loaded", ended))
    sb.device_action(ended, "accept")
    services.agent_client(alice).update_session(ended, {"full_device": "requested"})
    ok(report(client, ticket, "tool", ended, tool="full_device"))
    sb.device_action(ended, "full_device_reject")
    ok(report(client, ticket, "session.updated", ended))
    sb.device_action(ended, "end")
    ok(report(client, ticket, "session.updated", ended))

    sentences = [s for _, s in history(ticket)]
    assert sentences[2:4] == ["Maria Lopez declined the co-browse session", "Session ended by Maria Lopez"]
    assert sentences[-3:] == ["Alice Martin requested full device sharing",
                              "Alice Martin requested full device sharing; Maria Lopez declined it",
                              "Session ended by Maria Lopez"]


def test_closing_the_ticket_ends_the_session_and_says_why(world):
    sb, alice, ticket, client = world
    sid = waiting_session(sb, alice)
    ok(report(client, ticket, "session.loaded", sid))
    sb.device_action(sid, "accept")
    helpdesk.close_ticket(ticket, alice)
    run_tasks()
    wait_state(sb, sid, "ended")
    ended = Event.objects.get(ticket=ticket, verb=Verb.COBROWSE_ENDED)
    assert ended.data["cause"] == "ticket_closed" and ended.actor is None
    assert ended.sentence == "Session ended because the ticket was closed"
    requested = Event.objects.get(ticket=ticket, verb=Verb.COBROWSE_END_REQUESTED)
    assert requested.sentence == "The helpdesk is ending the co-browse session because the ticket was closed"
    ok(report(client, ticket, "session.updated", sid))  # the page saw the end too: nothing more is recorded
    assert Event.objects.filter(ticket=ticket, verb=Verb.COBROWSE_ENDED).count() == 1


def reports_at_once(monkeypatch, calls):
    """Run the calls in threads that have all fetched the session before any of them records it."""
    barrier = threading.Barrier(len(calls), timeout=20)
    fetch = services._fetch_for_agent

    def fetched_together(agent, session_id):
        session = fetch(agent, session_id)
        barrier.wait()
        return session

    monkeypatch.setattr(services, "_fetch_for_agent", fetched_together)
    errors = []

    def run(call):
        try:
            call()
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors


def test_two_reports_of_the_same_change_record_one_event(world, monkeypatch):
    sb, alice, ticket, client = world
    sid = waiting_session(sb, alice)
    services.link_session(ticket, alice, sid)
    sb.device_action(sid, "accept")
    reports_at_once(monkeypatch, [lambda: services.record_session_update(ticket, alice, sid)] * 2)
    assert Event.objects.filter(ticket=ticket, verb=Verb.COBROWSE_CONSENT_ALLOWED).count() == 1
    assert SessionLink.objects.get(session_id=sid).state == "active"


def test_two_loads_of_the_same_session_link_it_once(world, monkeypatch):
    sb, alice, ticket, client = world
    sid = waiting_session(sb, alice)
    reports_at_once(monkeypatch, [lambda: services.link_session(ticket, alice, sid)] * 2)
    assert SessionLink.objects.filter(session_id=sid).count() == 1
    assert Event.objects.filter(ticket=ticket, verb=Verb.COBROWSE_LINKED).count() == 1

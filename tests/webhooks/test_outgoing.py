"""Outgoing webhooks against a real HTTP receiver on loopback: signed deliveries, written with the
event they report, retried while the receiver is down, logged, and replayable."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk import services as helpdesk
from helpdesk.models import Event
from helpdesk.webhooks import outgoing, signing
from helpdesk.webhooks.models import Delivery
from tests import factories as f
from tests.integration.test_cobrowse_flow import run_tasks
from tests.webhooks.helpers import outgoing_endpoint
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def desk(settings):
    settings.WEBHOOK_RETRY_DELAYS = [1, 1, 1]
    team = f.team("Support")
    agent = f.agent(team, name="Alice Agent")
    ticket = f.ticket(team, f.customer(user_id="cust-9", name="Carla"), subject="Refund")
    return agent, ticket


def test_a_closed_ticket_is_delivered_signed_to_its_subscribers(receiver, desk):
    agent, ticket = desk
    receiver.start()
    endpoint, secret = outgoing_endpoint(receiver.url)
    outgoing_endpoint(receiver.url, events=["cobrowse.session_ended"], name="Not subscribed")
    helpdesk.close_ticket(ticket, agent, reason="solved")
    delivery = Delivery.objects.get()
    assert (delivery.endpoint, delivery.state) == (endpoint, "pending")
    run_tasks()

    (headers, body), = receiver.received
    assert signing.verify(secret, headers[signing.TIMESTAMP_HEADER], headers[signing.SIGNATURE_HEADER], body)
    assert headers["X-Helpdesk-Event"] == "ticket.closed" and headers["X-Helpdesk-Delivery"] == str(delivery.pk)
    payload = json.loads(body)
    assert payload["type"] == "ticket.closed" and payload["id"] == f"evt_{Event.objects.get(verb='closed').pk}"
    assert payload["data"]["ticket"] == {
        "id": ticket.pk, "subject": "Refund", "status": "closed", "team": ticket.team.slug,
        "customer": {"user_id": "cust-9", "name": "Carla"}, "url": f"http://127.0.0.1:8000/tickets/{ticket.pk}/",
    }
    assert payload["data"]["actor"] == "Alice Agent" and payload["data"]["reason"] == "solved"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)
    assert delivery.response_excerpt == "thanks"


def test_no_delivery_is_written_when_the_close_is_rolled_back(receiver, desk):
    agent, ticket = desk
    outgoing_endpoint(receiver.url)
    helpdesk.close_ticket(ticket, agent)
    with pytest.raises(helpdesk.ActionError):
        helpdesk.close_ticket(ticket, agent)  # refused: nothing more is written
    assert Delivery.objects.count() == 1


def test_delivery_is_retried_while_the_receiver_is_down_then_arrives_once(receiver, desk):
    agent, ticket = desk
    endpoint, secret = outgoing_endpoint(receiver.url)  # nothing listens on that port yet
    helpdesk.close_ticket(ticket, agent)
    run_tasks()
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, None)
    assert "Could not reach the receiver" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()

    receiver.status = 503
    receiver.start()
    run_tasks(include_delayed=True)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 2, 503)
    assert "HTTP 503" in delivery.last_error and delivery.response_excerpt == "try later"

    receiver.status = 200
    run_tasks(include_delayed=True)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 3)
    run_tasks(include_delayed=True)
    assert len(receiver.received) == 2  # the 503 and the success; nothing after delivery
    assert len({h["X-Helpdesk-Delivery"] for h, _ in receiver.received}) == 1


def test_after_the_last_retry_the_delivery_is_failed_and_a_replay_delivers_it(receiver, desk, client):
    agent, ticket = desk
    endpoint, secret = outgoing_endpoint(receiver.url)
    helpdesk.close_ticket(ticket, agent)
    for _ in range(5):
        run_tasks(include_delayed=True)
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("failed", 4)  # the first try and 3 retries

    receiver.start()
    admin = f.agent(None, role="admin", name="Ada Admin")
    client.force_login(admin.user)
    page = client.get("/settings/webhooks/deliveries/?state=failed")
    assert str(delivery.pk) in page.content.decode() and "Could not reach the receiver" in page.content.decode()
    response = client.post(f"/settings/webhooks/deliveries/{delivery.pk}/replay/")
    assert response.status_code == 302
    run_tasks()
    replayed = Delivery.objects.get(replay_of=delivery)
    assert replayed.state == "delivered" and replayed.payload == delivery.payload
    (headers, body), = receiver.received
    assert headers["X-Helpdesk-Delivery"] == str(replayed.pk)
    assert Event.objects.filter(verb="webhook_replayed", actor=admin).exists()


def test_a_disabled_endpoint_gets_nothing_new_and_pending_deliveries_fail(receiver, desk):
    from helpdesk.webhooks import services

    agent, ticket = desk
    receiver.start()
    endpoint, secret = outgoing_endpoint(receiver.url)
    helpdesk.close_ticket(ticket, agent)
    services.set_enabled(endpoint, False, None)
    run_tasks()
    assert Delivery.objects.get().state == "failed" and Delivery.objects.get().last_error == "The endpoint is disabled."
    helpdesk.reopen(ticket, agent)
    helpdesk.close_ticket(ticket, agent)
    assert Delivery.objects.count() == 1 and receiver.received == []


def test_deliveries_a_dead_worker_left_behind_are_requeued(receiver, desk):
    from django_tasks_db.models import DBTaskResult

    agent, ticket = desk
    receiver.start()
    outgoing_endpoint(receiver.url)
    helpdesk.close_ticket(ticket, agent)
    DBTaskResult.objects.all().delete()  # the worker took the task and died
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    assert outgoing.requeue_stalled() == 1
    assert outgoing.requeue_stalled() == 0  # not twice
    run_tasks()
    assert Delivery.objects.get().state == "delivered" and len(receiver.received) == 1


def test_cobrowse_session_events_are_delivered_with_their_session_id_and_an_ends_cause(receiver, desk):
    agent, ticket = desk
    receiver.start()
    outgoing_endpoint(receiver.url, events=["cobrowse.session_linked", "cobrowse.session_ended"])
    helpdesk.record(ticket, agent, "cobrowse_linked", session_id="ses_1", state="active")
    helpdesk.record(ticket, None, "cobrowse_ended", session_id="ses_1", attempts=1, cause="ticket_closed")
    helpdesk.record(ticket, agent, "cobrowse_tool", session_id="ses_1", tool="laser")  # not a webhook event
    run_tasks()
    sent = [json.loads(body) for _, body in receiver.received]
    assert sorted((p["type"], p["data"]["session_id"]) for p in sent) == [
        ("cobrowse.session_ended", "ses_1"), ("cobrowse.session_linked", "ses_1")]
    ended = next(p for p in sent if p["type"] == "cobrowse.session_ended")
    assert ended["data"]["cause"] == "ticket_closed" and "attempts" not in ended["data"]

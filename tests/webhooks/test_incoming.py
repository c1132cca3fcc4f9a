"""The incoming webhook: signed, within the window, once; it closes the interaction it names and
refuses everything else with a clear 4xx and no change."""

import json
import time

import pytest

from helpdesk import services as helpdesk
from helpdesk.chat import services as chat_services
from helpdesk.chat.models import Chat
from helpdesk.models import Event, Ticket
from helpdesk.webhooks import services, signing
from helpdesk.webhooks.models import IncomingEndpoint
from integrations.cobrowse.models import SessionLink
from tests import factories as f
from tests.chat.helpers import site
from tests.integration.test_cobrowse_flow import active_session_for, report, run_tasks
from tests.webhooks.helpers import call, incoming_endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def office():
    support, sales = f.team("Support"), f.team("Sales")
    customer = f.customer(user_id="cust-7", name="Carla")
    ticket = f.ticket(support, customer, subject="Checkout broken")
    endpoint, secret = incoming_endpoint(team=support)
    return support, sales, customer, ticket, endpoint, secret


def state_of(ticket):
    ticket.refresh_from_db()
    return ticket.status, list(Event.objects.filter(ticket=ticket).values_list("verb", flat=True))


def test_a_signed_call_closes_the_named_ticket(client, office):
    support, sales, customer, ticket, endpoint, secret = office
    response = call(client, endpoint, secret, {"ticket_id": ticket.pk, "reason": "call ended"})
    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "closed_tickets": [ticket.pk], "already_closed": [],
                               "closed_chats": [], "interactions_ended": []}
    status, verbs = state_of(ticket)
    assert status == "closed" and verbs[-1] == "closed"
    assert Event.objects.get(ticket=ticket, verb="closed").data["reason"] == "webhook Contact centre: call ended"
    endpoint.refresh_from_db()
    assert endpoint.last_used_at is not None


def test_the_same_request_twice_is_a_replay_and_changes_nothing_more(client, office):
    support, sales, customer, ticket, endpoint, secret = office
    ts = int(time.time())
    assert call(client, endpoint, secret, {"ticket_id": ticket.pk}, timestamp=ts).status_code == 200
    helpdesk.reopen(ticket, None)
    before = state_of(ticket)
    response = call(client, endpoint, secret, {"ticket_id": ticket.pk}, timestamp=ts)
    assert response.status_code == 409 and "already received" in response.json()["error"]
    assert state_of(ticket) == before


def test_a_new_signature_for_a_closed_ticket_is_accepted_and_says_so(client, office):
    support, sales, customer, ticket, endpoint, secret = office
    call(client, endpoint, secret, {"ticket_id": ticket.pk}, timestamp=int(time.time()) - 1)
    response = call(client, endpoint, secret, {"ticket_id": ticket.pk})
    assert response.status_code == 200 and response.json()["already_closed"] == [ticket.pk]
    assert state_of(ticket)[1].count("closed") == 1


@pytest.mark.parametrize("how, status, message", [
    ("old timestamp", 401, "more than 5 minutes"),
    ("future timestamp", 401, "more than 5 minutes"),
    ("wrong secret", 401, "does not match"),
    ("no signature", 401, "Missing"),
    ("tampered body", 401, "does not match"),
    ("other endpoint's secret", 401, "does not match"),
])
def test_a_badly_signed_call_is_401_and_changes_nothing(client, office, how, status, message):
    support, sales, customer, ticket, endpoint, secret = office
    other, other_secret = incoming_endpoint(name="Other")
    body = json.dumps({"ticket_id": ticket.pk}).encode()
    kwargs = {
        "old timestamp": dict(timestamp=int(time.time()) - 400),
        "future timestamp": dict(timestamp=int(time.time()) + 400),
        "wrong secret": dict(signature="v1=" + "0" * 64),
        "no signature": dict(signature=""),
        "tampered body": {},
        "other endpoint's secret": {},
    }[how]
    if how == "tampered body":
        from helpdesk.webhooks import signing
        headers = signing.headers(secret, body)
        response = client.post(f"/hooks/in/{endpoint.slug}/", json.dumps({"ticket_id": ticket.pk, "x": 1}),
                               content_type="application/json", headers=headers)
    else:
        response = call(client, endpoint, other_secret if how == "other endpoint's secret" else secret, body, **kwargs)
    assert response.status_code == status and message in response.json()["error"]
    assert response.json()["ok"] is False
    assert state_of(ticket) == ("open", ["opened"])


@pytest.mark.parametrize("body, message", [
    (b"not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b"{}", "exactly one"),
    (b'{"ticket_id": 1, "customer": {"user_id": "x"}}', "exactly one"),
    (b'{"ticket_id": "abc"}', "positive integer"),
    (b'{"ticket_id": -3}', "positive integer"),
    (b'{"ticket_id": true}', "positive integer"),
    (b'{"ticket_id": 1.5}', "positive integer"),
    (b'{"ticket_id": 99999999999999999999999}', "too large"),
    (b'{"customer": "cust-7"}', "customer.user_id"),
    (b'{"customer": {"user_id": ""}}', "customer.user_id"),
    (b'{"customer": {"user_id": 7}}', "customer.user_id"),
    (b'{"ticket_id": 1, "reason": ["x"]}', "reason"),
    (b'{"ticket_id": 1, "reason": "a\\u0000b"}', "no NUL"),
    (b'{"ticket_id": 1, "reason": "\\ud800"}', "lone surrogate"),
    (b'{"customer": {"user_id": "cust\\u0000"}}', "no NUL"),
    (b'{"customer": {"user_id": "\\udfff"}}', "lone surrogate"),
    # Regressions: each of these was a 500.
    (b"[" * 10_000 + b"]" * 10_000, "nested more than 20 levels"),
    (b'{"customer": {"user_id": ' + b"[" * 10_000 + b"]" * 10_000 + b"}}", "nested more than 20 levels"),
    (b'{"ticket_id": 1, "x": ' + b'{"a": ' * 21 + b"1" + b"}" * 22, "nested more than 20 levels"),
    (b'{"ticket_id": 1e999}', "too large"),
    (b'{"ticket_id": 1, "reason": NaN}', "NaN is not allowed"),
    (b'{"ticket_id": Infinity}', "Infinity is not allowed"),
    (b'{"ticket_id": ' + b"9" * 5000 + b"}", "too large"),
    (b'{"customer": {"user_id": ["cust-7"]}}', "customer.user_id must be text"),
    (b'{"customer": {"user_id": {"id": "cust-7"}}}', "customer.user_id must be text"),
    (b'{"ticket_id": [1]}', "ticket_id must be a positive integer"),
    (b'{"ticket_id": "", "customer": {"user_id": "cust-7"}}', "ticket_id must be a positive integer"),
])
def test_a_bad_body_is_400_with_a_clear_error_and_changes_nothing(client, office, body, message):
    support, sales, customer, ticket, endpoint, secret = office
    response = call(client, endpoint, secret, body)
    assert response.status_code == 400 and message in response.json()["error"]
    assert state_of(ticket) == ("open", ["opened"])


@pytest.mark.parametrize("signature", ["v1=" + "é" * 64, "v1=é", "v1=" + "g" * 64, "v1=" + "٣" * 64, "é=é, v1=\u00ff"])
def test_a_signature_that_is_not_ascii_hex_is_401(client, office, signature):
    support, sales, customer, ticket, endpoint, secret = office
    response = call(client, endpoint, secret, {"ticket_id": ticket.pk}, signature=signature)
    assert response.status_code == 401 and "does not match" in response.json()["error"]
    assert state_of(ticket) == ("open", ["opened"])


def test_an_upper_case_hex_signature_is_the_same_signature(client, office):
    support, sales, customer, ticket, endpoint, secret = office
    body = json.dumps({"ticket_id": ticket.pk}).encode()
    signature = signing.headers(secret, body)[signing.SIGNATURE_HEADER]
    response = call(client, endpoint, secret, body, signature="v1=" + signature.removeprefix("v1=").upper())
    assert response.status_code == 200 and state_of(ticket)[0] == "closed"


def test_a_huge_body_is_413(client, office):
    support, sales, customer, ticket, endpoint, secret = office
    body = json.dumps({"ticket_id": ticket.pk, "reason": "x" * 70_000}).encode()
    response = call(client, endpoint, secret, body)
    assert response.status_code == 413 and "larger than" in response.json()["error"]
    assert state_of(ticket) == ("open", ["opened"])


def test_unknown_or_disabled_endpoints_and_other_methods(client, office):
    support, sales, customer, ticket, endpoint, secret = office
    forged = IncomingEndpoint(slug="forged-slug", name="x")
    assert call(client, forged, secret, {"ticket_id": ticket.pk}).status_code == 404
    services.set_enabled(endpoint, False, None)
    response = call(client, endpoint, secret, {"ticket_id": ticket.pk})
    assert response.status_code == 404 and "No enabled webhook endpoint" in response.json()["error"]
    assert client.get(f"/hooks/in/{endpoint.slug}/").status_code == 405
    assert state_of(ticket) == ("open", ["opened"])


def test_a_ticket_of_another_team_or_that_does_not_exist_is_404(client, office):
    support, sales, customer, ticket, endpoint, secret = office
    theirs = f.ticket(sales, customer)
    for ticket_id in (theirs.pk, 999_999):
        response = call(client, endpoint, secret, {"ticket_id": ticket_id})
        assert response.status_code == 404 and "No ticket" in response.json()["error"]
    assert Ticket.objects.filter(status="closed").count() == 0


def test_an_endpoint_of_every_team_reaches_any_team(client, office):
    support, sales, customer, ticket, endpoint, secret = office
    everywhere, everywhere_secret = incoming_endpoint(name="Everywhere")
    theirs = f.ticket(sales, customer)
    assert call(client, everywhere, everywhere_secret, {"ticket_id": theirs.pk}).status_code == 200
    assert state_of(theirs)[0] == "closed"


def test_naming_the_customer_closes_their_open_chat_and_leaves_tickets_open(client, office):
    support, sales, customer, ticket, endpoint, secret = office
    chat, _ = chat_services.start_or_resume_chat(site(support), customer, "Hello?")
    response = call(client, endpoint, secret, {"customer": {"user_id": "cust-7"}, "reason": "agent hung up"})
    assert response.status_code == 200, response.content
    assert response.json()["closed_chats"] == [chat.pk]
    assert response.json()["interactions_ended"] == [ticket.pk]
    chat.refresh_from_db()
    assert chat.state == Chat.State.CLOSED and chat.close_reason == "webhook"
    assert state_of(ticket)[0] == "open" and state_of(chat.ticket)[0] == "open"


def test_an_unknown_customer_is_404(client, office):
    support, sales, customer, ticket, endpoint, secret = office
    response = call(client, endpoint, secret, {"customer": {"user_id": "nobody"}})
    assert response.status_code == 404 and "No customer" in response.json()["error"]


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_the_call_ends_the_linked_cobrowse_sessions_through_the_durable_path(client, cobrowse_on_sandbox):
    sb = cobrowse_on_sandbox
    support = f.team("Support")
    agent = f.agent(support)
    customer = f.customer(user_id="cust-42")
    ticket, other = f.ticket(support, customer), f.ticket(support, customer)
    endpoint, secret = incoming_endpoint(team=support)
    client.force_login(agent.user)
    first, second = active_session_for(sb, agent, "cust-42"), active_session_for(sb, agent, "cust-42")
    assert report(client, ticket, "session.loaded", first).status_code == 200
    assert report(client, other, "session.loaded", second).status_code == 200
    client.logout()

    assert call(client, endpoint, secret, {"ticket_id": ticket.pk}).status_code == 200
    assert SessionLink.objects.get(session_id=first).end_requested_at is not None
    run_tasks()
    assert sb.session_raw(first)["state"] == "ended" and sb.session_raw(second)["state"] == "active"

    # Naming the customer ends what is still live on their open tickets; the ticket stays open.
    assert call(client, endpoint, secret, {"customer": {"user_id": "cust-42"}}).status_code == 200
    run_tasks()
    assert sb.session_raw(second)["state"] == "ended"
    assert state_of(other)[0] == "open"
    assert SessionLink.objects.filter(ended_at__isnull=False).count() == 2

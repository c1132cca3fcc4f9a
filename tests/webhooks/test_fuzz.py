"""A fuzz pass (hypothesis) over the incoming webhook endpoint: malformed JSON, wrong types, huge
bodies, unicode, script tags, signed or not. Every case gets a clear 4xx; never a 500, never a change."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.models import Event, Ticket
from tests import factories as f
from tests.webhooks.helpers import call, incoming_endpoint

pytestmark = pytest.mark.django_db

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=50),
                    st.just("<script>alert(1)</script>"), st.just("\u202e\u0000\ud7ff"), st.just("9" * 40))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                      max_leaves=10)
bodies = st.one_of(
    values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({}, optional={"ticket_id": scalars, "customer": values, "reason": scalars}).map(
        lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.just(b"{" * 5000),
    st.just(json.dumps({"customer": {"user_id": "x" * 70_000}}).encode()),
)


@pytest.fixture
def target():
    # The endpoint serves another team, so no generated ticket_id can be a valid target.
    ticket = f.ticket(f.team(), f.customer(user_id="customer-out-of-reach"))
    endpoint, secret = incoming_endpoint(team=f.team())
    return ticket, endpoint, secret


def assert_nothing_changed(ticket):
    assert Ticket.objects.get(pk=ticket.pk).status == "open"
    assert list(Event.objects.filter(ticket__isnull=False).values_list("verb", flat=True)) == ["opened"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, signed=st.booleans())
def test_the_incoming_endpoint_refuses_anything_malformed_clearly(client, target, body, signed):
    ticket, endpoint, secret = target
    response = call(client, endpoint, secret if signed else "not-the-secret", body)
    assert 400 <= response.status_code < 500, (body[:200], response.status_code)
    assert response.json()["ok"] is False and response.json()["error"]
    assert_nothing_changed(ticket)

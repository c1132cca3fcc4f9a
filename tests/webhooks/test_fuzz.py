"""A fuzz pass (hypothesis) over the incoming webhook endpoint: malformed JSON, wrong types for every
field, nesting up to 1,000 levels, NaN and huge numbers, huge bodies, unicode, script tags, signed or
not, signatures that are not hex. Every case gets a clear 4xx; never a 500, never a change."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.models import Event, Ticket
from helpdesk.webhooks.models import SeenSignature
from tests import factories as f
from tests import malformed_json as bad
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
    st.just(bad.deep_text(10_000).encode()),
)
valid_user_id = st.just('"customer-out-of-reach"')
field_texts = st.one_of(
    bad.broken_object(
        valid={"ticket_id": st.integers(1, 10**6).map(json.dumps), "reason": st.text(max_size=50).map(json.dumps),
               "customer": valid_user_id.map(lambda user_id: bad.obj({"user_id": user_id}))},
        wrong={"ticket_id": bad.not_int(1),
               "reason": bad.not_text | st.just(json.dumps("r" * 201)),
               "customer": bad.not_object | bad.broken_object(
                   valid={"user_id": valid_user_id},
                   wrong={"user_id": bad.not_text | st.sampled_from(['""', '"  "', json.dumps("u" * 201), '"\\u0000"'])})},
    ),
    bad.not_object,
    st.builds(lambda value: bad.obj({"ticket_id": "1", "x": value}), bad.too_deep | st.sampled_from(bad.BAD_NUMBERS)),
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
    assert not SeenSignature.objects.exists()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, signed=st.booleans())
def test_the_incoming_endpoint_refuses_anything_malformed_clearly(client, target, body, signed):
    ticket, endpoint, secret = target
    response = call(client, endpoint, secret if signed else "not-the-secret", body)
    assert 400 <= response.status_code < 500, (body[:200], response.status_code)
    assert response.json()["ok"] is False and response.json()["error"]
    assert_nothing_changed(ticket)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=field_texts)
def test_a_signed_body_with_a_wrong_value_in_any_field_is_400_and_changes_nothing(client, target, text):
    ticket, endpoint, secret = target
    response = call(client, endpoint, secret, text.encode("utf-8", "surrogatepass"))
    assert response.status_code == 400, (text[:200], response.status_code, response.content[:200])
    assert response.json()["ok"] is False and response.json()["error"]
    assert_nothing_changed(ticket)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(signature=st.text(max_size=80) | st.sampled_from(["é" * 64, "g" * 64, "0" * 64, "١" * 64, " " * 64]),
       scheme=st.sampled_from(["v1=", "v0=", "", "v1=v1="]))
def test_a_signature_that_is_not_the_hex_digest_is_401(client, target, signature, scheme):
    ticket, endpoint, secret = target
    header = (scheme + signature).encode("latin-1", "replace").decode("latin-1")  # what HTTP can carry
    response = call(client, endpoint, secret, {"ticket_id": ticket.pk}, signature=header)
    assert response.status_code == 401, (header, response.status_code)
    assert response.json()["ok"] is False and response.json()["error"]
    assert_nothing_changed(ticket)

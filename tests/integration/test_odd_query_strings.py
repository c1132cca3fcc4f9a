"""Ids in query strings that are not ids (non-ASCII digits, numbers past the id columns) filter
nothing and never answer 500."""

import pytest
from django.test import Client

from helpdesk.models import Agent
from helpdesk.webhooks.models import OutgoingEndpoint
from tests import factories as f

pytestmark = pytest.mark.django_db

NOT_IDS = ["²", "١٢", "9" * 30, "9" * 5000, str(2**63), "-1", "1e3", " "]


@pytest.mark.parametrize("text", NOT_IDS)
def test_object_id_refuses_what_no_id_column_holds(text):
    from helpdesk.forms import object_id

    assert object_id(text) is None


def test_object_id_reads_ascii_digits_within_range():
    from helpdesk.forms import object_id

    assert object_id("42") == 42
    assert object_id(str(2**63 - 1)) == 2**63 - 1


def _client(agent):
    client = Client(raise_request_exception=False)
    client.force_login(agent.user)
    return client


@pytest.mark.parametrize("field", ["assignee", "q"])
@pytest.mark.parametrize("text", ["²", "١٢", "9" * 30, "#" + "9" * 30, "#²", str(2**63), "-1", "1e3"])
def test_the_ticket_list_filters_take_any_text(support, alice, field, text):
    ticket = f.ticket(support, subject="Printer on fire")
    response = _client(alice).get("/tickets/", {field: text})
    assert response.status_code == 200
    # Not an id: the assignee filter is refused (the whole list), the search finds nothing by id.
    assert (ticket.subject in response.content.decode()) == (field == "assignee")


def test_the_ticket_list_still_finds_a_ticket_by_its_number(support, alice):
    ticket = f.ticket(support, subject="Printer on fire")
    other = f.ticket(support, subject="Something else")
    page = _client(alice).get("/tickets/", {"q": f"#{ticket.pk}"}).content.decode()
    assert ticket.subject in page and other.subject not in page


@pytest.mark.parametrize("text", NOT_IDS)
def test_the_delivery_log_endpoint_filter_takes_any_text(text):
    admin = f.agent(None, role=Agent.Role.ADMIN)
    response = _client(admin).get("/settings/webhooks/deliveries/", {"endpoint": text})
    assert response.status_code == 200


def test_the_delivery_log_filters_by_a_real_endpoint_id():
    admin = f.agent(None, role=Agent.Role.ADMIN)
    endpoint = OutgoingEndpoint.objects.create(name="crm", url="http://127.0.0.1:9/hook")
    response = _client(admin).get("/settings/webhooks/deliveries/", {"endpoint": str(endpoint.pk)})
    assert response.status_code == 200
    assert response.context["endpoint"] == str(endpoint.pk)

"""Prepared queries give what their queryset gives, compiled once."""

import pytest
from django.db.models import Q
from django.http import Http404

from helpdesk import access
from helpdesk.models import Ticket
from helpdesk.prepared import PreparedQueries, PreparedQuery
from tests import factories as f

pytestmark = pytest.mark.django_db


def ticket_with_customer(ticket_id):
    return Ticket.objects.select_related("customer", "team").filter(pk=ticket_id)


def test_the_instances_are_the_querysets_with_their_joined_models(support, django_assert_num_queries):
    ticket = f.ticket(support, f.customer(name="Carla Customer"), subject="Printer on fire")
    prepared = PreparedQuery(ticket_with_customer)
    with django_assert_num_queries(1):
        found = prepared.first(ticket.pk)
        # Joined models come with it; dates come back as aware datetimes, as from the ORM.
        assert (found.customer.name, found.team.name) == ("Carla Customer", "Support")
    expected = ticket_with_customer(ticket.pk).get()
    assert found == expected and found.created_at == expected.created_at and found.created_at.tzinfo is not None
    assert {field.attname: getattr(found, field.attname) for field in Ticket._meta.concrete_fields} == \
           {field.attname: getattr(expected, field.attname) for field in Ticket._meta.concrete_fields}
    assert prepared.first(ticket.pk + 1000) is None


def test_a_32_bit_id_column_is_prepared_like_a_64_bit_one(alice):
    # auth.User's id is an AutoField: on PostgreSQL a placeholder outside its range would compile
    # to "matches nothing".
    user = type(alice.user)
    prepared = PreparedQuery(lambda user_id: user.objects.select_related("agent__team").filter(pk=user_id)[:1])
    found = prepared.first(alice.user_id)
    assert found == alice.user and found.agent.team.name == "Support"


def test_ids_come_as_integers_or_match_nothing(support):
    ticket = f.ticket(support, f.customer())
    prepared = PreparedQuery(ticket_with_customer)
    assert prepared.first(str(ticket.pk)) == ticket
    assert prepared.all(2**70) == [] and prepared.all(-(2**64)) == []
    with pytest.raises(ValueError):
        prepared.all("1 OR 1=1")


def test_a_queryset_that_matches_nothing_gives_nothing(support):
    f.ticket(support, f.customer())
    assert PreparedQuery(lambda ticket_id: Ticket.objects.none().filter(pk=ticket_id)).all(1) == []


@pytest.mark.parametrize("build", [
    lambda ticket_id: Ticket.objects.filter(pk=ticket_id + 1),  # changed on its way
    lambda ticket_id: Ticket.objects.filter(Q(pk=ticket_id) | Q(customer_id=ticket_id)),  # twice
])
def test_an_id_that_is_not_one_parameter_as_given_is_refused(build):
    with pytest.raises(ValueError, match="placeholder"):
        PreparedQuery(build)


def test_queries_are_prepared_once_per_shape(support):
    built = []

    def build(shape, ticket_id):
        built.append(shape)
        return Ticket.objects.filter(pk=ticket_id, status=shape)

    queries = PreparedQueries(build)
    ticket = f.ticket(support, f.customer())
    for _ in range(3):
        assert queries[ticket.status].first(ticket.pk) == ticket
        assert queries["closed"].first(ticket.pk) is None
    assert built == [ticket.status, "closed"]


@pytest.mark.parametrize("ticket_id", ["abc", "", None, 2**70, "1;DROP TABLE helpdesk_ticket"])
def test_a_ticket_id_that_is_no_id_is_a_404(alice, support, ticket_id):
    f.ticket(support, f.customer())
    with pytest.raises(Http404):
        access.ticket_or_404(alice, ticket_id)


def test_an_agent_in_no_team_sees_no_ticket(support):
    ticket = f.ticket(support, f.customer())
    with pytest.raises(Http404):
        access.ticket_or_404(f.agent(None), ticket.pk)
    assert access.ticket_or_404(f.agent(None, role="supervisor"), ticket.pk) == ticket

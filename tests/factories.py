"""Small builders for test data (real rows in the test database)."""

import itertools

from django.contrib.auth import get_user_model

from helpdesk import services
from helpdesk.models import Agent, Customer, Team

_seq = itertools.count(1)
PASSWORD = "pw-for-tests-1"


def team(name=None):
    n = next(_seq)
    name = name or f"Team {n}"
    return Team.objects.create(name=name, slug=f"team-{n}")


def agent(team=None, role=Agent.Role.AGENT, name=None):
    n = next(_seq)
    user = get_user_model().objects.create_user(f"agent{n}", f"agent{n}@example.com", PASSWORD)
    return Agent.objects.create(user=user, team=team, role=role, display_name=name or f"Agent {n}")


def customer(user_id=None, name=None, site=None):
    """A customer of this chat site (as its widget creates them), or the helpdesk's own (site None)."""
    n = next(_seq)
    return Customer.objects.create(user_id=user_id or f"cust-{n}", name=name or f"Customer {n}", email=f"c{n}@example.com",
                                   site=site)


def ticket(team, customer_=None, subject=None, body="Help me please", **kwargs):
    return services.open_ticket(
        customer=customer_ or customer(), subject=subject or f"Problem {next(_seq)}", body=body, team=team, **kwargs
    )

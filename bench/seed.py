"""Bulk data for benchmarks: N tickets, and one ticket with 50 messages and 5 session links."""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.middleware.csrf import _get_new_csrf_string
from django.utils import timezone

from helpdesk.models import Agent, Conversation, Customer, Message, Team, Ticket
from integrations.cobrowse.models import SessionLink


def seed(n_tickets=10_000, batch=2000):
    rng = random.Random(7)
    now = timezone.now()
    teams = [Team.objects.get_or_create(slug=s, defaults={"name": n})[0] for n, s in (("Support", "support"), ("Billing", "billing"))]
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"email": "bench@example.com"})
    agent, _ = Agent.objects.get_or_create(user=user, defaults={"display_name": "Bench Agent", "role": "agent", "team": teams[0]})
    if Ticket.objects.count() >= n_tickets:
        return agent, Ticket.objects.filter(subject="Bench ticket with a long thread").first()
    customers = Customer.objects.bulk_create(
        [Customer(user_id=f"bench-{i}", name=f"Customer {i}", email=f"c{i}@example.com") for i in range(500)]
    )
    for start in range(0, n_tickets, batch):
        tickets = Ticket.objects.bulk_create([
            Ticket(subject=f"Ticket {i} about something", customer=rng.choice(customers), team=teams[i % 2],
                   status=rng.choice(["open", "pending", "closed"]), priority=rng.choice(["low", "normal", "high"]),
                   assignee=agent if i % 3 == 0 else None, created_at=now - timedelta(minutes=i),
                   updated_at=now - timedelta(minutes=i))
            for i in range(start, min(start + batch, n_tickets))
        ])
        conversations = Conversation.objects.bulk_create([Conversation(ticket=t) for t in tickets])
        Message.objects.bulk_create([
            Message(conversation=c, kind=kind, body="Hello, this is a message body of a typical length.")
            for c in conversations for kind in ("customer", "agent")
        ])
    big = Ticket.objects.create(subject="Bench ticket with a long thread", customer=customers[0], team=teams[0],
                                assignee=agent, updated_at=now + timedelta(minutes=1))
    conversation = Conversation.objects.create(ticket=big)
    Message.objects.bulk_create([
        Message(conversation=conversation, kind=("customer", "agent", "note")[i % 3], author=None if i % 3 == 0 else agent,
                body=f"Message {i}: " + "words " * 30, created_at=now + timedelta(seconds=i))
        for i in range(50)
    ])
    SessionLink.objects.bulk_create([
        SessionLink(ticket=big, session_id=f"ses_bench_{i:020d}", agent=agent, state=("active", "ended")[i % 2])
        for i in range(5)
    ])
    return agent, big


def session_cookie(agent):
    store = SessionStore()
    store["_auth_user_id"] = str(agent.user.pk)
    store["_auth_user_backend"] = "helpdesk.auth_backend.AgentModelBackend"
    store["_auth_user_hash"] = agent.user.get_session_auth_hash()
    store.create()
    # A browser sends the CSRF cookie it got with its first page; without it each view would mint a new secret.
    return f"sessionid={store.session_key};csrftoken={_get_new_csrf_string()}"

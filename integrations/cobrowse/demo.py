"""Demo co-browse history: past sessions on the demo tickets, with the events real ones record, so
the ticket Activity and the supervisors' insights have something to show on a fresh demo."""

import random
from datetime import timedelta

from django.db import transaction

from helpdesk.events import Verb
from helpdesk.models import Event, Ticket

from .models import SessionLink

PREFIX = "demo-"  # the demo links' session ids: once one exists the history is seeded


def seed_history(share=0.35):
    """Give about `share` of the demo tickets one past session. Returns how many; 0 when already done."""
    if SessionLink.objects.filter(session_id__startswith=PREFIX).exists():
        return 0
    seeded = 0
    with transaction.atomic():
        tickets = Ticket.objects.filter(customer__user_id__startswith="customer-").select_related("assignee", "team")
        for ticket in tickets.prefetch_related("team__agents"):
            rng = random.Random(ticket.pk)
            agent = ticket.assignee or next(iter(ticket.team.agents.all()), None)
            if agent is None or rng.random() >= share:
                continue
            _past_session(rng, ticket, agent)
            seeded += 1
    return seeded


def _past_session(rng, ticket, agent):
    at = ticket.created_at + timedelta(minutes=rng.randint(5, 240))
    link = SessionLink(ticket=ticket, session_id=f"{PREFIX}{ticket.pk}", agent=agent, state=SessionLink.State.ENDED,
                       device_name=rng.choice(["MacBook Pro", "iPhone 15", "Pixel 8", "Windows PC"]),
                       created_at=at, updated_at=at)
    events = [(agent, Verb.COBROWSE_LINKED, {"state": "authorizing"}, at), (agent, Verb.COBROWSE_CONSENT_ASKED, {}, at)]
    at += timedelta(seconds=rng.randint(5, 40))
    if rng.random() < 0.12:
        events += [(agent, Verb.COBROWSE_CONSENT_DECLINED, {}, at), (agent, Verb.COBROWSE_ENDED, {"cause": "customer"}, at)]
    else:
        events.append((agent, Verb.COBROWSE_CONSENT_ALLOWED, {}, at))
        link.activated_at = at
        for tool in rng.sample(["laser", "drawing", "clear"], rng.randint(1, 3)):
            at += timedelta(seconds=rng.randint(20, 240))
            events.append((agent, Verb.COBROWSE_TOOL, {"tool": tool}, at))
        for feature in rng.sample(["FULL_DEVICE", "REMOTE_CONTROL"], rng.randint(0, 2)):
            at += timedelta(seconds=rng.randint(20, 200))
            answer = "ALLOWED" if rng.random() < 0.75 else "DECLINED"
            events += [(agent, Verb[f"COBROWSE_{feature}_REQUESTED"], {}, at),
                       (agent, Verb[f"COBROWSE_{feature}_{answer}"], {}, at + timedelta(seconds=8))]
        at += timedelta(seconds=rng.randint(60, 900))
        cause = "ticket_closed" if ticket.closed_at and rng.random() < 0.5 else rng.choice(["agent", "agent", "customer"])
        link.end_reason = cause if cause == "ticket_closed" else ""
        events.append((None if cause == "ticket_closed" else agent, Verb.COBROWSE_ENDED, {"cause": cause}, at))
        if cause == "ticket_closed":  # the session ran until the ticket closed
            shift = ticket.closed_at - at
            events = [(actor, verb, data, when + shift) for actor, verb, data, when in events]
            link.created_at, link.activated_at, at = link.created_at + shift, link.activated_at + shift, at + shift
    link.ended_at = link.updated_at = at
    link.save()
    Event.objects.bulk_create(Event(ticket=ticket, actor=actor, verb=verb, data={"session_id": link.session_id, **data},
                                    created_at=when) for actor, verb, data, when in events)

"""Steps of bench/cobrowse.py that need Django set up (imported after django.setup())."""

import statistics
import time
import uuid

import requests
from django.contrib.auth import get_user_model

from helpdesk import services as helpdesk
from helpdesk.models import Agent, Customer, Team
from integrations.cobrowse import monitoring, tokens
from integrations.cobrowse.models import SessionLink
from integrations.cobrowse.services import admin_client


def _agent():
    team, _ = Team.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"email": "bench@example.com"})
    agent, _ = Agent.objects.get_or_create(user=user, defaults={"display_name": "Bench", "team": team})
    return agent


def seed_links(api, count):
    """`count` open tickets, each linked to an active session in the sandbox."""
    agent = _agent()
    customer, _ = Customer.objects.get_or_create(user_id="bench-customer", defaults={"name": "Bench Customer"})
    batch = uuid.uuid4().hex[:8]
    requests.post(f"{api}/__sandbox__/sessions/bulk", json={
        "license_key": tokens.license_key(), "count": count, "custom_data": {"batch": batch}}, timeout=60).raise_for_status()
    sessions = list(admin_client().iter_sessions(state=["active"], agent="all", filter_batch=batch))
    links = []
    for session in sessions:
        ticket = helpdesk.open_ticket(customer=customer, subject="Bench", body="hello", team=agent.team)
        SessionLink.objects.create(ticket=ticket, session_id=session["id"], agent=agent, state="active")
        links.append((ticket, session["id"]))
    return links


def close_and_measure(api, links, wait=True, only_wait=False, since=None):
    """Close each ticket; return the seconds from each close until its session was ended."""
    agent = _agent()
    closed = {}
    if not only_wait:
        for ticket, session_id in links:
            closed[session_id] = time.time()
            helpdesk.close_ticket(ticket, agent)
            if wait:
                _wait_ended([session_id], timeout=30)
    if not wait and not only_wait:
        return []
    ids = [session_id for _, session_id in links]
    _wait_ended(ids, timeout=120)
    out = []
    for link in SessionLink.objects.filter(session_id__in=ids):
        out.append(link.ended_at.timestamp() - (since if since is not None else closed[link.session_id]))
    return out


def _wait_ended(ids, timeout):
    deadline = time.monotonic() + timeout
    while SessionLink.objects.filter(session_id__in=ids, ended_at__isnull=True).exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{SessionLink.objects.filter(session_id__in=ids, ended_at__isnull=True).count()} sessions never ended")
        time.sleep(0.02)


def count_supervisor_sessions(api, count, expected, same_activated_ms=1, runs=3):
    """Add `count` active sessions, then take the supervisors' snapshot as the dashboard does
    (uncached) `runs` times: seconds of each, REST calls, and whether every total is `expected()`
    (read from the sandbox's own database, not through the API)."""
    requests.post(f"{api}/__sandbox__/sessions/bulk", json={
        "license_key": tokens.license_key(), "count": count, "same_activated_ms": same_activated_ms},
        timeout=120).raise_for_status()
    seconds, exact, truth = [], True, expected()
    for _ in range(runs):
        started = time.perf_counter()
        snapshot = monitoring.active_sessions(refresh=True)
        seconds.append(time.perf_counter() - started)
        if snapshot.error:
            raise RuntimeError(snapshot.error)
        exact = exact and snapshot.total == truth
    return {"seconds": statistics.median(seconds), "runs": seconds, "calls": snapshot.rest_calls,
            "total": snapshot.total, "exact": exact}


def one_page():
    client = admin_client()
    started = time.perf_counter()
    client.list_sessions(state=["active"], agent="all", limit=1000)
    return time.perf_counter() - started

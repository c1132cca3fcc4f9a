"""The co-browse insights page over many events.

Seeds a throwaway SQLite database (or, with --database postgres, a throwaway PostgreSQL database
created through --postgres-url and dropped at the end) with co-browse sessions spread over the last 30 days (the page's
default range): each session's events as the helpdesk records them (linked, consent, tools, full
device, remote control, ended with a cause) and its session link, plus the tickets' "opened"
events. Then renders /supervisor/insights/ (and its CSV) through Django's test client as a
supervisor, --renders times each, at 10,000 events and at --events, and prints p50 and max
render time and the number of queries of one render.

    .venv/bin/python -m bench.insights [--events 100000] [--renders 20] [--database sqlite|postgres]
                                       [--postgres-url URL] [--json]

With --json the last line is one JSON object of the figures.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALL = 10_000
CAUSES = ["agent"] * 40 + ["customer"] * 30 + ["ticket_closed"] * 12 + ["chat_closed"] * 8 + ["repair"] * 3 + [
    "timeout"] * 4 + ["limit"] + ["elsewhere"] * 2
BATCH = 5000


class Seeder:
    """Adds sessions (and their tickets) until the database holds a number of events."""

    def __init__(self):
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        from helpdesk.models import Agent, Customer, Team

        self.rng = random.Random(11)
        self.now = timezone.now()
        today = timezone.localdate()
        self.since = timezone.make_aware(datetime.combine(today - timedelta(days=29), datetime.min.time()))
        self.teams = [Team.objects.create(name=name, slug=name.lower()) for name in ("Support", "Billing")]
        users = get_user_model().objects
        self.agents = [Agent.objects.create(user=users.create_user(f"agent{i}", f"agent{i}@example.com"),
                                            team=self.teams[i % 2], display_name=f"Agent {i:02d}") for i in range(20)]
        self.supervisor = Agent.objects.create(user=users.create_user("sup", "sup@example.com"), role="supervisor",
                                               display_name="Bench Supervisor")
        self.customers = Customer.objects.bulk_create(
            [Customer(user_id=f"bench-{i}", name=f"Customer {i}") for i in range(500)])
        self.events = 0
        self.sessions = 0

    def _when(self):
        return self.since + (self.now - self.since - timedelta(hours=3)) * self.rng.random()

    def _session(self, ticket, agent, started):
        """The events of one session ([(verb, seconds after start, actor, data)]) and its link."""
        from helpdesk.events import Verb
        from integrations.cobrowse.models import SessionLink

        rng = self.rng
        sid = f"ses_bench_{self.sessions:012d}"
        self.sessions += 1
        steps = [(Verb.COBROWSE_LINKED, 0, agent, {"state": "authorizing"}),
                 (Verb.COBROWSE_CONSENT_ASKED, 0, agent, {})]
        link = SessionLink(ticket_id=ticket.pk, session_id=sid, agent=agent, created_at=started, updated_at=started,
                           state="ended")
        if rng.random() < 0.15:
            steps.append((Verb.COBROWSE_CONSENT_DECLINED, 8, agent, {}))
            steps.append((Verb.COBROWSE_ENDED, 8, None, {"cause": "customer"}))
            link.ended_at = started + timedelta(seconds=8)
        else:
            steps.append((Verb.COBROWSE_CONSENT_ALLOWED, 6, agent, {}))
            length = rng.randint(30, 1800)
            link.activated_at = started + timedelta(seconds=6)
            for _ in range(rng.randint(0, 3)):
                steps.append((Verb.COBROWSE_TOOL, rng.randint(7, 6 + length), agent,
                              {"tool": rng.choice(["laser", "drawing", "control", "clear"])}))
            for feature, chance in (("FULL_DEVICE", 0.2), ("REMOTE_CONTROL", 0.15)):
                if rng.random() < chance:
                    steps.append((Verb[f"COBROWSE_{feature}_REQUESTED"], 10, agent, {}))
                    answer = "ALLOWED" if rng.random() < 0.7 else "DECLINED"
                    steps.append((Verb[f"COBROWSE_{feature}_{answer}"], 14, agent, {}))
            if rng.random() < 0.03:  # still going
                link.state = "active"
            else:
                link.ended_at = link.activated_at + timedelta(seconds=length)
                steps.append((Verb.COBROWSE_ENDED, 6 + length, None, {"cause": rng.choice(CAUSES)}))
        return sid, steps, link

    def fill(self, target):
        """Add tickets with 1-3 sessions each until the database holds `target` events."""
        from helpdesk.events import Verb
        from helpdesk.models import Event, Ticket
        from integrations.cobrowse.models import SessionLink

        rng = self.rng
        while self.events < target:
            opened = [self._when() for _ in range(500)]
            tickets = Ticket.objects.bulk_create([
                Ticket(subject="Cannot check out", customer=rng.choice(self.customers), team=self.teams[i % 2],
                       created_at=when, updated_at=when) for i, when in enumerate(opened)])
            events, links = [], []
            for ticket in tickets:
                if self.events + len(events) >= target:
                    break
                events.append(Event(ticket=ticket, verb=Verb.OPENED, data={"channel": "web"},
                                    created_at=ticket.created_at))
                agent = rng.choice([a for a in self.agents if a.team_id == ticket.team_id])
                for _ in range(rng.randint(1, 3)):
                    started = ticket.created_at + timedelta(minutes=rng.randint(1, 120))
                    sid, steps, link = self._session(ticket, agent, started)
                    links.append(link)
                    events += [Event(ticket=ticket, actor=actor, verb=verb, created_at=started + timedelta(seconds=s),
                                     data={"session_id": sid, **data}) for verb, s, actor, data in steps]
            events = events[:target - self.events]
            Event.objects.bulk_create(events, batch_size=BATCH)
            SessionLink.objects.bulk_create(links, batch_size=BATCH)
            self.events += len(events)


def measure(client, params, renders):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def render():
        started = time.perf_counter()
        response = client.get("/supervisor/insights/", params)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        return elapsed

    render()  # warm up: templates, connection
    times = [render() for _ in range(renders)]
    with CaptureQueriesContext(connection) as queries:
        render()
    return {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1), "queries": len(queries)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres",
                        help="an existing database to connect to while creating and dropping the throwaway one")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object with the figures")
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="insights-bench-"))
    for name in ("DATABASE_URL", "DEBUG", "REDIS_URL", "REDIS_CACHE_URL"):
        os.environ.pop(name, None)
    os.environ.update(DJANGO_SETTINGS_MODULE="bench.settings", HELPDESK_VAR_DIR=str(var))
    drop, database = None, "SQLite"
    if args.database == "postgres":
        from bench.pages import throwaway_postgres

        os.environ["DATABASE_URL"], database, drop = throwaway_postgres(args.postgres_url)
    try:
        run(args, database)
    finally:
        if drop:
            from django.db import connections

            connections.close_all()
            drop()
        shutil.rmtree(var, ignore_errors=True)


def run(args, database):
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    seeder = Seeder()
    client = Client(HTTP_HOST="localhost")
    client.force_login(seeder.supervisor.user)
    figures = {"database": database, "renders": args.renders}
    print(database)
    sizes = sorted({min(SMALL, args.events), args.events})
    for size in sizes:
        started = time.monotonic()
        seeder.fill(size)
        seeded = time.monotonic() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # as autovacuum would after such a load
        page = measure(client, {}, args.renders)
        as_csv = measure(client, {"format": "csv"}, args.renders)
        one_team = measure(client, {"team": seeder.teams[0].pk}, args.renders)
        print(f"{seeder.events:,} events ({seeder.sessions:,} sessions, seeded in {seeded:.1f} s): "
              f"page p50 {page['p50_ms']} ms, max {page['max_ms']} ms, {page['queries']} queries; "
              f"one team p50 {one_team['p50_ms']} ms, {one_team['queries']} queries; "
              f"CSV p50 {as_csv['p50_ms']} ms, {as_csv['queries']} queries")
        suffix = "" if size == sizes[-1] else f"_at_{size}"
        figures.update({
            f"events{suffix}": seeder.events, f"sessions{suffix}": seeder.sessions,
            f"render_p50_ms{suffix}": page["p50_ms"], f"render_max_ms{suffix}": page["max_ms"],
            f"queries{suffix}": page["queries"], f"team_render_p50_ms{suffix}": one_team["p50_ms"],
            f"team_queries{suffix}": one_team["queries"], f"csv_p50_ms{suffix}": as_csv["p50_ms"],
            f"csv_queries{suffix}": as_csv["queries"],
        })
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    sys.exit(main())

"""Chat load: widget customers and agents on two daphne processes joined by Redis, on PostgreSQL.

Each customer sends a message every 5-10 s (--min-gap, --max-gap) for --duration seconds; each
customer's ticket page is open for one agent (--agents share the customers' tickets). Midway
(--kill-at) one daphne process is killed: its customers reconnect to the other and resume (the
unacknowledged messages are sent again with the same client_id, as the widget does), its agents'
pages reconnect and refresh their thread as the page does. At the end every agent's view of each
thread (what its page would show: the thread replaced by a full render, single messages appended)
is compared with what the customer sent: lost, duplicated, out of order. Delivery latency is from
the customer's send to the first frame that shows the message to its agent.

    .venv/bin/python -m bench.chatload [--customers 500] [--agents 20] [--duration 120] [--json]
"""

import argparse
import asyncio
import html
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import websockets

from bench.common import free_port, keys_into, pct, wait_http
from bench.pages import throwaway_postgres
from helpdesk.ws_server import raise_open_files_limit

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ORIGIN = "http://load.test"

SEED = """
import django, json, sys; django.setup()
from django.contrib.auth import get_user_model
from helpdesk.models import Agent, Team
from helpdesk.chat.models import ChatSite
from helpdesk.chat.identity import signed_identity
from bench.seed import session_cookie
customers, agents = int(sys.argv[1]), int(sys.argv[2])
team, _ = Team.objects.get_or_create(slug="load", defaults={"name": "Load"})
site, _ = ChatSite.objects.get_or_create(key="load", defaults={"name": "Load", "team": team, "allowed_origins": "%s"})
cookies = []
for i in range(agents):
    user, _ = get_user_model().objects.get_or_create(username=f"load-agent-{i}", defaults={"email": f"a{i}@example.com"})
    agent, _ = Agent.objects.get_or_create(user=user, defaults={"display_name": f"Agent {i}", "team": team})
    cookies.append(session_cookie(agent))
identities = [signed_identity(site.secret, f"load-{i}", lifetime=3600) for i in range(customers)]
print(json.dumps({"cookies": cookies, "identities": identities}))
""" % ORIGIN

TICKETS = """
import django, json; django.setup()
from helpdesk.chat.models import Chat
print(json.dumps({c.customer.user_id: c.conversation.ticket_id for c in Chat.objects.select_related("customer", "conversation")}))
"""

# One message as the thread shows it; the body is the customer's marker.
MESSAGE = re.compile(r'id="msg-(\d+)".*?<div class="msg-body">(.*?)</div>', re.S)
THREAD = re.compile(r'<ol id="thread"[^>]*>(.*?)</ol>', re.S)


class Servers:
    def __init__(self, env, var, count=2):
        self.env, self.var = env, var
        self.ports = [free_port() for _ in range(count)]
        self.processes = {}
        for port in self.ports:
            self.processes[port] = subprocess.Popen(
                [PY, "-m", "helpdesk.ws_server", "-b", "127.0.0.1", "-p", str(port), "helpdesk.asgi:application"],
                cwd=ROOT, env=env, stdout=(var / f"daphne-{port}.log").open("w"), stderr=subprocess.STDOUT)
        for port in self.ports:
            wait_http(f"http://127.0.0.1:{port}/login/", timeout=60)

    def alive(self):
        return [port for port, process in self.processes.items() if process.poll() is None]

    def kill(self, port):
        self.processes[port].send_signal(signal.SIGKILL)
        self.processes[port].wait()

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


class Customer:
    def __init__(self, index, identity, servers, stats):
        self.user_id = f"load-{index}"
        self.identity = identity
        self.servers, self.stats = servers, stats
        self.port = servers.ports[index % len(servers.ports)]
        self.sent = []  # client ids in the order the customer wrote them
        self.unacked = {}  # client id -> body
        self.sent_at = {}
        self.last_seen = 0
        self.ws = None

    @staticmethod
    def delay(attempt):
        """static/widget.js's wait before reconnect attempt `attempt` (0 first)."""
        return min(15, 0.5 * 2 ** attempt) * random.uniform(0.75, 1.25)

    async def connect(self, kind="hello", reconnecting=False):
        attempt = 0
        while True:
            if reconnecting or attempt:
                await asyncio.sleep(self.delay(attempt))
            try:
                self.ws = await websockets.connect(f"ws://127.0.0.1:{self.port}/ws/chat/", origin=ORIGIN,
                                                   open_timeout=30, max_queue=None)
                await self.ws.send(json.dumps({"type": kind, "site": "load", "name": self.user_id,
                                               "last_seen": self.last_seen, **self.identity}))
                return
            except (OSError, websockets.WebSocketException):
                self.stats["customer_reconnect_failures"] += 1
                self.port = random.choice(self.servers.alive())
                attempt += 1

    async def reader(self):
        while True:
            try:
                async for text in self.ws:
                    frame = json.loads(text)
                    if frame["type"] == "ack":
                        self.unacked.pop(frame["client_id"], None)
                        self.last_seen = max(self.last_seen, frame["id"])
                    elif frame["type"] == "error" and frame.get("client_id"):
                        self.stats["errors"][frame["code"]] = self.stats["errors"].get(frame["code"], 0) + 1
            except websockets.WebSocketException:
                pass
            # The server went away: reconnect to one that is alive, resume, and send again what it
            # never acknowledged (same client ids: the server stores each once).
            self.stats["customer_reconnects"] += 1
            self.port = random.choice(self.servers.alive())
            await self.connect("resume", reconnecting=True)
            for client_id, body in list(self.unacked.items()):
                await self._send(client_id, body)

    async def _send(self, client_id, body):
        try:
            await self.ws.send(json.dumps({"type": "message", "client_id": client_id, "body": body}))
        except websockets.WebSocketException:
            pass  # the reader reconnects and sends it again

    async def say(self, number):
        client_id = f"{self.user_id}-{number}"
        self.sent.append(client_id)
        self.unacked[client_id] = client_id
        self.sent_at[client_id] = time.perf_counter()
        await self._send(client_id, client_id)


class AgentPage:
    """One agent's open ticket page: its socket, and the thread as the page would show it."""

    def __init__(self, cookie, ticket_id, servers, stats, index):
        self.cookie, self.ticket_id = cookie, ticket_id
        self.servers, self.stats = servers, stats
        self.port = servers.ports[index % len(servers.ports)]
        self.thread = []  # (message id, body) in page order
        self.first_seen = {}
        self.ws = None

    @staticmethod
    def delay(attempt):
        """htmx's ws extension's wait before reconnect attempt `attempt` (its "full-jitter" default)."""
        return 2 ** min(attempt, 6) * random.random()

    async def connect(self, reconnecting=False):
        attempt = 0
        while True:
            if reconnecting or attempt:
                await asyncio.sleep(self.delay(attempt))
            try:
                self.ws = await websockets.connect(
                    f"ws://127.0.0.1:{self.port}/ws/tickets/{self.ticket_id}/", origin=f"http://127.0.0.1:{self.port}",
                    additional_headers={"Cookie": self.cookie}, open_timeout=30, max_queue=None)
                return
            except (OSError, websockets.WebSocketException) as exc:
                self.stats["agent_reconnect_failures"] += 1
                why = f"agent page: {type(exc).__name__}: {str(exc)[:80]}"
                self.stats["errors"][why] = self.stats["errors"].get(why, 0) + 1
                self.port = random.choice(self.servers.alive())
                attempt += 1

    def show(self, text, now):
        """Apply a pushed or fetched piece of HTML as the page would."""
        thread = THREAD.search(text)
        if thread:  # the whole thread, fetched: it replaces the list, keeping pushes newer than it
            fresh = [(int(pk), html.unescape(body).strip()) for pk, body in MESSAGE.findall(thread.group(1))]
            newest = max((pk for pk, _ in fresh), default=0)
            self.thread = fresh + [m for m in self.thread if m[0] > newest]
        else:  # a message pushed alone: appended unless the page already shows it (static/js/helpdesk.js)
            shown = {pk for pk, _ in self.thread}
            self.thread.extend((int(pk), html.unescape(body).strip()) for pk, body in MESSAGE.findall(text)
                               if int(pk) not in shown)
        for _, body in self.thread:
            self.first_seen.setdefault(body, now)

    async def refresh(self):
        url = f"http://127.0.0.1:{self.port}/tickets/{self.ticket_id}/fragment/thread/"
        response = await asyncio.to_thread(requests.get, url, headers={"Cookie": self.cookie}, timeout=30)
        self.show(response.text, time.perf_counter())

    async def reader(self):
        while True:
            try:
                async for text in self.ws:
                    self.show(text, time.perf_counter())
            except websockets.WebSocketException:
                pass
            self.stats["agent_reconnects"] += 1
            self.port = random.choice(self.servers.alive())
            await self.connect(reconnecting=True)
            await self.refresh()  # what the page does after a reconnect


async def run(args, servers, seeded, env):
    stats = {"customer_reconnects": 0, "agent_reconnects": 0, "customer_reconnect_failures": 0,
             "agent_reconnect_failures": 0, "errors": {}}
    customers = [Customer(i, identity, servers, stats) for i, identity in enumerate(seeded["identities"])]
    # Every customer opens a chat with a first message, so the agents have ticket pages to open.
    for batch in range(0, len(customers), 50):
        await asyncio.gather(*(c.connect() for c in customers[batch:batch + 50]))
    readers = [asyncio.create_task(c.reader()) for c in customers]
    await asyncio.gather(*(c.say(0) for c in customers))
    deadline = time.monotonic() + 60
    while any(c.unacked for c in customers):
        if time.monotonic() > deadline:
            raise RuntimeError("the first messages were not all acknowledged within 60 s")
        await asyncio.sleep(0.2)
    tickets = json.loads(subprocess.run([PY, "-c", TICKETS], cwd=ROOT, env=env, capture_output=True, text=True,
                                        check=True).stdout.strip().splitlines()[-1])
    pages = [AgentPage(seeded["cookies"][i % len(seeded["cookies"])], tickets[c.user_id], servers, stats, i)
             for i, c in enumerate(customers)]
    for batch in range(0, len(pages), 50):
        await asyncio.gather(*(p.connect() for p in pages[batch:batch + 50]))
    await asyncio.gather(*(p.refresh() for p in pages))  # the page as first rendered
    readers += [asyncio.create_task(p.reader()) for p in pages]

    started = time.monotonic()
    killed = killed_at = None

    async def talk(customer):
        number = 1
        await asyncio.sleep(random.uniform(0, args.max_gap))
        while time.monotonic() - started < args.duration:
            await customer.say(number)
            number += 1
            await asyncio.sleep(random.uniform(args.min_gap, args.max_gap))

    async def killer():
        nonlocal killed, killed_at
        await asyncio.sleep(args.duration * args.kill_at)
        killed, killed_at = servers.ports[0], time.perf_counter()
        servers.kill(killed)

    tasks = [asyncio.create_task(talk(c)) for c in customers]
    if args.kill_at > 0:
        tasks.append(asyncio.create_task(killer()))
    await asyncio.gather(*tasks)
    # Let the last messages arrive and every page catch up.
    deadline = time.monotonic() + args.settle
    while time.monotonic() < deadline:
        if not any(c.unacked for c in customers) and all(
                len(p.thread) >= len(c.sent) for p, c in zip(pages, customers)):
            break
        await asyncio.sleep(0.5)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)

    sent = lost = duplicated = out_of_order = 0
    latencies, windows = [], {"before_kill": [], "after_kill": [], "after_kill_30s": []}
    for page, customer in zip(pages, customers):
        shown = [body for _, body in page.thread]
        sent += len(customer.sent)
        lost += len(set(customer.sent) - set(shown))
        duplicated += len(shown) - len(set(shown))
        ours = [body for body in shown if body in customer.sent_at]
        if ours != [client_id for client_id in customer.sent if client_id in set(ours)]:
            out_of_order += 1
        # The opening message was sent before the agent's page was open: it has no delivery latency.
        for body in customer.sent[1:]:
            if body not in page.first_seen:
                continue
            latency, sent_at = page.first_seen[body] - customer.sent_at[body], customer.sent_at[body]
            latencies.append(latency)
            if killed_at is not None:
                windows["before_kill" if sent_at < killed_at else "after_kill"].append(latency)
                if sent_at >= killed_at + 30:
                    windows["after_kill_30s"].append(latency)
    return {
        "customers": len(customers), "agents": len(seeded["cookies"]), "agent_pages": len(pages),
        "duration_seconds": args.duration, "killed_process": killed is not None,
        "messages_sent": sent, "messages_lost": lost, "messages_duplicated": duplicated,
        "threads_out_of_order": out_of_order,
        "p50_ms": round(pct(latencies, 50) * 1000, 1) if latencies else None,
        "p99_ms": round(pct(latencies, 99) * 1000, 1) if latencies else None,
        # The same for the messages sent before the kill, after it, and from 30 s after it on.
        **{f"p{q}_ms_{window}": round(pct(values, q) * 1000, 1) for window, values in windows.items() if values
           for q in (50, 99)},
        **{key: value for key, value in stats.items()},
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--duration", type=float, default=120)
    parser.add_argument("--min-gap", type=float, default=5)
    parser.add_argument("--max-gap", type=float, default=10)
    parser.add_argument("--kill-at", type=float, default=0.5, help="fraction of the duration; 0: kill nothing")
    parser.add_argument("--settle", type=float, default=60, help="seconds allowed for the last messages")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = parser.parse_args()

    raise_open_files_limit()  # a thousand client sockets
    var = Path(tempfile.mkdtemp(prefix="chatload-"))
    keys_into(var / "cobrowse")
    database_url, database_label, drop = throwaway_postgres(args.postgres_url)
    import redis
    redis.Redis.from_url(args.redis_url).flushdb()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DB_", "DATABASE_", "REDIS_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "helpdesk.settings", "DEBUG": "true", "HELPDESK_VAR_DIR": str(var),
                "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url, "REDIS_URL": args.redis_url,
                "ALLOWED_HOSTS": "127.0.0.1,localhost", "LOG_LEVEL": "WARNING",
                # One customer writes every 5 s at most, and every client is on 127.0.0.1: the rate
                # and per-address limits are not what is measured.
                "CHAT_RATE_MESSAGES": "100000", "CHAT_MAX_CONNECTIONS_PER_ADDRESS": "100000"})
    servers = None
    try:
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        seeded = json.loads(subprocess.run([PY, "-c", SEED, str(args.customers), str(args.agents)], cwd=ROOT, env=env,
                                           capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
        servers = Servers(env, var)
        figures = asyncio.run(run(args, servers, seeded, env))
    finally:
        if servers:
            servers.stop()
        drop()
    print(f"{database_label}, Redis channel layer, two daphne processes")
    print(f"{figures['customers']} customers, {figures['agent_pages']} ticket pages of {figures['agents']} agents, "
          f"{figures['duration_seconds']:.0f} s" + (", one daphne killed midway" if figures["killed_process"] else ""))
    print(f"messages sent {figures['messages_sent']}, lost {figures['messages_lost']}, duplicated "
          f"{figures['messages_duplicated']}, threads out of order {figures['threads_out_of_order']}")
    print(f"delivery to the agent's page: p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms")
    for window, words in (("before_kill", "sent before the kill"), ("after_kill", "sent after it"),
                          ("after_kill_30s", "sent from 30 s after it")):
        if f"p50_ms_{window}" in figures:
            print(f"  {words}: p50 {figures[f'p50_ms_{window}']} ms, p99 {figures[f'p99_ms_{window}']} ms")
    print(f"reconnects: customers {figures['customer_reconnects']}, agent pages {figures['agent_reconnects']}")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""How many idle websockets one daphne process holds, and the memory each costs: agent ticket
pages (spread over tickets, 10 viewers each), then chat widgets that said hello, opened in batches
and held past the hello timeout. The daphne processes run as in production (helpdesk.ws_server).

    .venv/bin/python -m bench.connections [--agents 200] [--widgets 5000] [--json]
    .venv/bin/python -m bench.connections --processes 2 --redis redis://127.0.0.1:6379/0 --widgets 10000
"""

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websockets

from bench.common import free_port, keys_into, wait_http
from bench.fanout import ORIGIN, SEED
from helpdesk.ws_server import raise_open_files_limit

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

TICKETS = """
import django; django.setup()
from helpdesk import services
from helpdesk.models import Agent, Customer
agent = Agent.objects.get(user__username="bench")
customer, _ = Customer.objects.get_or_create(user_id="conn-customer", defaults={"name": "Conn"})
print(" ".join(str(services.open_ticket(customer=customer, subject=f"T{i}", body="x", team=agent.team).pk) for i in range(%d)))
"""


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


BATCH = 100


async def open_many(urls, make):
    batch = BATCH
    sockets = []
    for start in range(0, len(urls), batch):
        sockets += await asyncio.gather(*(make(url) for url in urls[start:start + batch]))
    return sockets


async def open_agents(urls, cookie):
    return await open_many(urls, lambda u: websockets.connect(  # the page's own origin
        u, origin=u.replace("ws://", "http://").split("/ws/")[0], additional_headers={"Cookie": cookie},
        max_queue=None, open_timeout=60))


async def open_widgets(urls, identity):
    async def widget(url):
        ws = await websockets.connect(url, origin=ORIGIN, max_queue=None, open_timeout=60)
        await ws.send(json.dumps({"type": "hello", "site": "bench", "name": "W", **identity}))
        while json.loads(await ws.recv())["type"] != "history":  # welcome, then history: identified
            pass
        return ws

    return await open_many(urls, widget)


def snapshot(pids):
    for pid in pids:
        os.kill(pid, signal.SIGUSR1)


async def measure(servers, cookie, identity, agents, widgets, ticket_ids, hold, profile):
    """Agents then widgets, spread evenly over the servers; RSS of every server after each."""
    pids = [pid for pid, _ in servers]
    # What the first connections cost once (imports, templates, the database connection) is no socket's.
    warm = [f"{base.replace('http://', 'ws://')}" for _, base in servers] * 10
    warm = (await open_agents([f"{w}/ws/tickets/{ticket_ids[0]}/" for w in warm], cookie)
            + await open_widgets([f"{w}/ws/chat/" for w in warm], identity))
    await asyncio.gather(*(ws.close() for ws in warm))
    await asyncio.sleep(2)
    if profile:
        snapshot(pids[:1])
        await asyncio.sleep(10)
    before = sum(rss_kb(p) for p in pids)
    started = time.perf_counter()
    urls = [f"{servers[i % len(servers)][1].replace('http://', 'ws://')}/ws/tickets/{ticket_ids[i // 10]}/"
            for i in range(agents)]
    agent_sockets = await open_agents(urls, cookie)
    agent_seconds = time.perf_counter() - started
    await asyncio.sleep(2)
    after_agents = sum(rss_kb(p) for p in pids)
    started = time.perf_counter()
    urls = [f"{servers[i % len(servers)][1].replace('http://', 'ws://')}/ws/chat/" for i in range(widgets)]
    widget_sockets = await open_widgets(urls, identity)
    widget_seconds = time.perf_counter() - started
    # Held past the hello timeout and a keepalive ping: these are sockets that stay open.
    await asyncio.sleep(hold)
    after_widgets = sum(rss_kb(p) for p in pids)
    alive = sum(1 for ws in agent_sockets + widget_sockets if ws.state.name == "OPEN")
    if profile:  # the dump blocks the server for a while: its sockets may miss their pings after it
        dump = Path(os.environ["HELPDESK_TRACEMALLOC_FILE"])
        snapshot(pids[:1])
        for _ in range(300):  # comparing two snapshots of a large heap takes a while
            await asyncio.sleep(1)
            if dump.exists() and dump.stat().st_size and time.time() - dump.stat().st_mtime > 3:
                break
    await asyncio.gather(*(ws.close() for ws in agent_sockets + widget_sockets), return_exceptions=True)
    return {"before": before, "after_agents": after_agents, "after_widgets": after_widgets,
            "agent_seconds": agent_seconds, "widget_seconds": widget_seconds, "alive": alive}


def start_server(env, var, port):
    return subprocess.Popen([PY, "-m", "helpdesk.ws_server", "-b", "127.0.0.1", "-p", str(port), "bench.asgi:application"],
                            cwd=ROOT, env=env, stdout=(var / f"daphne-{port}.log").open("w"), stderr=subprocess.STDOUT)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--widgets", type=int, default=5000)
    parser.add_argument("--processes", type=int, default=1, help="daphne processes (more than one needs --redis)")
    parser.add_argument("--redis", default="", help="a Redis URL for the channel layer (its database is not cleared)")
    parser.add_argument("--hold", type=float, default=25, help="seconds the sockets stay open before counting")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    parser.add_argument("--profile", action="store_true",
                        help="print what grew in the (first) daphne process's Python heap, by tracemalloc")
    args = parser.parse_args()
    if args.processes > 1 and not args.redis:
        parser.error("--processes > 1 needs --redis: the processes share the channel layer")
    raise_open_files_limit()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = args.agents + args.widgets + 100
    if hard < needed:
        print(f"warning: the open-files limit ({hard}) is below the {needed} this client needs", file=sys.stderr)
    var = Path(tempfile.mkdtemp(prefix="conn-bench-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "HELPDESK_VAR_DIR": str(var),
           "PYTHONPATH": str(ROOT), "ALLOWED_HOSTS": "127.0.0.1,localhost",
           # every widget here is one identity from one address
           "CHAT_MAX_CONNECTIONS_PER_IDENTITY": "0", "CHAT_MAX_CONNECTIONS_PER_ADDRESS": "0"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.pop("REDIS_CACHE_URL", None)
    if args.redis:
        env["REDIS_URL"] = args.redis
    if args.profile:
        global BATCH
        BATCH = 10  # tracing slows the server down: fewer handshakes at once, or they time out
        env["HELPDESK_TRACEMALLOC_FILE"] = os.environ["HELPDESK_TRACEMALLOC_FILE"] = str(var / "tracemalloc.txt")
    keys_into(var / "cobrowse")
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    seeded = json.loads(subprocess.run([PY, "-c", SEED], cwd=ROOT, env=env, capture_output=True, text=True,
                                       check=True).stdout.strip().splitlines()[-1])
    ticket_ids = subprocess.run([PY, "-c", TICKETS % ((args.agents + 9) // 10)], cwd=ROOT, env=env,
                                capture_output=True, text=True, check=True).stdout.split()
    ports = [free_port() for _ in range(args.processes)]
    processes = [start_server(env, var, port) for port in ports]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base in bases:
            wait_http(f"{base}/login/")
        r = asyncio.run(measure(list(zip([p.pid for p in processes], bases)), seeded["cookie"], seeded["identity"],
                                args.agents, args.widgets, ticket_ids, args.hold, args.profile))
        healthy = all(p.poll() is None for p in processes)
    finally:
        for p in processes:
            p.kill()
            p.wait()
    total = args.agents + args.widgets
    if args.profile:
        print((var / "tracemalloc.txt").read_text() if (var / "tracemalloc.txt").exists() else "no tracemalloc dump")
    agent_kib = (r["after_agents"] - r["before"]) / max(1, args.agents)
    widget_kib = (r["after_widgets"] - r["after_agents"]) / max(1, args.widgets)
    all_kib = (r["after_widgets"] - r["before"]) / max(1, total)
    where = "one daphne process" if args.processes == 1 else f"{args.processes} daphne processes (Redis)"
    print(f"{where}: {r['alive']}/{total} idle websockets open after {args.hold:g} s")
    print(f"  agent ticket pages: {args.agents} opened in {r['agent_seconds']:.1f} s, {agent_kib:.1f} KiB each")
    print(f"  chat widgets:       {args.widgets} opened (hello answered) in {r['widget_seconds']:.1f} s, "
          f"{widget_kib:.1f} KiB each")
    print(f"  process RSS: {r['before'] / 1024:.0f} MiB idle, {r['after_widgets'] / 1024:.0f} MiB with all connections"
          f" ({all_kib:.1f} KiB a socket)")
    if args.json:
        print(json.dumps({"idle_sockets": r["alive"], "kib_per_socket": round(all_kib, 1),
                          "kib_per_agent_socket": round(agent_kib, 1), "kib_per_widget_socket": round(widget_kib, 1),
                          "agents": args.agents, "widgets": args.widgets, "processes": args.processes,
                          "redis": bool(args.redis), "servers_healthy": healthy,
                          "rss_idle_mib": round(r["before"] / 1024, 1), "rss_mib": round(r["after_widgets"] / 1024, 1)}))


if __name__ == "__main__":
    main()

"""How many idle websockets one daphne process holds, and the memory each costs: agent ticket
pages (spread over tickets, 10 viewers each) and chat widgets, opened in batches.

    .venv/bin/python -m bench.connections [--agents 1000] [--widgets 1000]
"""

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websockets

from bench.common import free_port, keys_into, wait_http
from bench.fanout import ORIGIN, SEED

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


async def open_many(urls, make, batch=100):
    sockets = []
    for start in range(0, len(urls), batch):
        sockets += await asyncio.gather(*(make(url) for url in urls[start:start + batch]))
    return sockets


async def measure(base, cookie, secret_identity, agents, widgets, pid, ticket_ids):
    ws_base = base.replace("http://", "ws://")
    before = rss_kb(pid)
    started = time.perf_counter()
    agent_urls = [f"{ws_base}/ws/tickets/{ticket_ids[i // 10]}/" for i in range(agents)]
    agent_sockets = await open_many(agent_urls, lambda u: websockets.connect(
        u, origin=base, additional_headers={"Cookie": cookie}, max_queue=None))
    agent_seconds = time.perf_counter() - started
    await asyncio.sleep(2)
    after_agents = rss_kb(pid)

    async def widget(url):
        ws = await websockets.connect(url, origin=ORIGIN, max_queue=None)
        await ws.send(json.dumps({"type": "hello", "site": "bench", "name": "W", **secret_identity}))
        return ws

    started = time.perf_counter()
    widget_sockets = await open_many([f"{ws_base}/ws/chat/"] * widgets, widget)
    widget_seconds = time.perf_counter() - started
    await asyncio.sleep(2)
    after_widgets = rss_kb(pid)
    alive = sum(1 for ws in agent_sockets + widget_sockets if ws.state.name == "OPEN")
    for ws in agent_sockets + widget_sockets:
        await ws.close()
    return before, after_agents, after_widgets, agent_seconds, widget_seconds, alive


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--widgets", type=int, default=1000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    var = Path(tempfile.mkdtemp(prefix="conn-bench-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "HELPDESK_VAR_DIR": str(var),
           "PYTHONPATH": str(ROOT), "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.pop("REDIS_CACHE_URL", None)
    keys_into(var / "cobrowse")
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    seeded = json.loads(subprocess.run([PY, "-c", SEED], cwd=ROOT, env=env, capture_output=True, text=True,
                                       check=True).stdout.strip().splitlines()[-1])
    ticket_ids = subprocess.run([PY, "-c", TICKETS % ((args.agents + 9) // 10)], cwd=ROOT, env=env,
                                capture_output=True, text=True, check=True).stdout.split()
    port = free_port()
    server = subprocess.Popen(["bash", "-c", f"ulimit -n 65536; exec {Path(PY).parent / 'daphne'} -b 127.0.0.1 "
                               f"-p {port} bench.asgi:application"], cwd=ROOT, env=env,
                              stdout=(var / "daphne.log").open("w"), stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/login/")
        before, after_agents, after_widgets, agent_s, widget_s, alive = asyncio.run(
            measure(base, seeded["cookie"], seeded["identity"], args.agents, args.widgets, server.pid, ticket_ids))
    finally:
        server.kill()
        server.wait()
    print(f"one daphne process: {alive}/{args.agents + args.widgets} idle websockets open at the end")
    print(f"  agent ticket pages: {args.agents} opened in {agent_s:.1f} s, "
          f"{(after_agents - before) / max(1, args.agents):.1f} KiB each")
    print(f"  chat widgets:       {args.widgets} opened in {widget_s:.1f} s, "
          f"{(after_widgets - after_agents) / max(1, args.widgets):.1f} KiB each")
    print(f"  process RSS: {before / 1024:.0f} MiB idle, {after_widgets / 1024:.0f} MiB with all connections")


if __name__ == "__main__":
    main()

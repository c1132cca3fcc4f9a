"""Chat fan-out: one customer message (widget websocket) delivered to N agent websockets watching
the ticket, p50/p99, against a minimal Channels echo consumer doing the same fan-out, with the
in-memory channel layer and with Redis (when reachable).

    .venv/bin/python -m bench.fanout [--agents 50] [--rounds 30] [--json]

With --json the last line is one JSON object: fanout_p99_ratio_memory / _redis (customer message
p99 over the echo baseline p99), the same for p50, and every p50/p99 in ms.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websockets

from bench.common import free_port, keys_into, pct, wait_http

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ORIGIN = "http://bench.test"




SEED = """
import django, json; django.setup()
from django.contrib.auth import get_user_model
from helpdesk.models import Agent, Team
from helpdesk.chat.models import ChatSite
from helpdesk.chat.identity import signed_identity
from bench.seed import session_cookie
team, _ = Team.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"email": "bench@example.com"})
agent, _ = Agent.objects.get_or_create(user=user, defaults={"display_name": "Bench", "team": team})
site, _ = ChatSite.objects.get_or_create(key="bench", defaults={"name": "Bench", "team": team, "allowed_origins": "%s"})
print(json.dumps({"cookie": session_cookie(agent), "identity": signed_identity(site.secret, "fan-user")}))
""" % ORIGIN

TICKET = """
import django; django.setup()
from helpdesk.chat.models import Chat
print(Chat.objects.order_by("-id").first().conversation.ticket_id)
"""


async def collect(sockets, marker, started, latencies):
    async def one(ws):
        while True:
            text = await asyncio.wait_for(ws.recv(), 10)
            if marker in text:
                latencies.append(time.perf_counter() - started)
                return
    await asyncio.gather(*(one(ws) for ws in sockets))


async def drain(sockets, seconds=0.3):
    async def one(ws):
        try:
            while True:
                await asyncio.wait_for(ws.recv(), seconds)
        except asyncio.TimeoutError:
            pass
    await asyncio.gather(*(one(ws) for ws in sockets))


async def run_layer(base, cookie, identity, agents, rounds, env, var):
    ws_base = base.replace("http://", "ws://")
    # The baseline: the same fan-out through a consumer that does nothing else.
    echo = [await websockets.connect(f"{ws_base}/ws/bench/echo/") for _ in range(agents)]
    baseline = []
    for i in range(rounds):
        marker = f"echo-{i}-{time.time()}"
        started = time.perf_counter()
        await echo[0].send(marker)
        await collect(echo, marker, started, baseline)
    for ws in echo:
        await ws.close()

    widget = await websockets.connect(f"{ws_base}/ws/chat/", origin=ORIGIN)
    await widget.send(json.dumps({"type": "hello", "site": "bench", "name": "Fan", **identity}))
    await widget.send(json.dumps({"type": "message", "client_id": "first", "body": "hello"}))
    await asyncio.sleep(0.5)
    ticket_id = subprocess.run([PY, "-c", TICKET], cwd=ROOT, env=env, capture_output=True, text=True,
                               check=True).stdout.strip()
    headers = {"Cookie": cookie}
    watchers = [await websockets.connect(f"{ws_base}/ws/tickets/{ticket_id}/", origin=base,
                                         additional_headers=headers) for _ in range(agents)]
    await drain(watchers + [widget], 1.0)
    latencies = []
    for i in range(rounds):
        marker = f"probe-{i}-{int(time.time() * 1000)}"
        started = time.perf_counter()
        await widget.send(json.dumps({"type": "message", "client_id": marker, "body": marker}))
        await collect(watchers, marker, started, latencies)
        await drain(watchers + [widget], 0.05)
    for ws in watchers + [widget]:
        await ws.close()
    return latencies, baseline


def redis_up():
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object, last")
    args = parser.parse_args()
    figures = {"agents": args.agents, "rounds": args.rounds}
    layers = {"in-memory": ""}
    if redis_up():
        layers["redis"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    else:
        print("Redis on 127.0.0.1:6379 is not reachable: only the in-memory layer is measured.")
        figures["fanout_p99_ratio_redis"] = None
    print(f"{'layer':<10} {'what':<34} {'p50 ms':>8} {'p99 ms':>8}")
    for layer, redis_url in layers.items():
        var = Path(tempfile.mkdtemp(prefix="fanout-bench-"))
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "HELPDESK_VAR_DIR": str(var),
               "PYTHONPATH": str(ROOT), "REDIS_URL": redis_url, "ALLOWED_HOSTS": "127.0.0.1,localhost",
               "CHAT_RATE_MESSAGES": "100000"}  # the per-connection limit is not what is measured
        env.pop("DATABASE_URL", None)
        keys_into(var / "cobrowse")
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        seeded = json.loads(subprocess.run([PY, "-c", SEED], cwd=ROOT, env=env, capture_output=True, text=True,
                                           check=True).stdout.strip().splitlines()[-1])
        port = free_port()
        server = subprocess.Popen([str(Path(PY).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port),
                                   "bench.asgi:application"], cwd=ROOT, env=env,
                                  stdout=(var / "daphne.log").open("w"), stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/login/")
            latencies, baseline = asyncio.run(run_layer(base, seeded["cookie"], seeded["identity"], args.agents,
                                                        args.rounds, env, var))
        finally:
            server.kill()
            server.wait()
        ms = lambda values, p: pct(values, p) * 1000  # noqa: E731
        print(f"{layer:<10} {'echo fan-out to ' + str(args.agents) + ' (baseline)':<34} {ms(baseline, 50):>8.1f} {ms(baseline, 99):>8.1f}")
        print(f"{layer:<10} {'customer message to ' + str(args.agents) + ' agents':<34} {ms(latencies, 50):>8.1f} {ms(latencies, 99):>8.1f}"
              f"   ({statistics.median(latencies) / statistics.median(baseline):.1f}x the baseline p50)")
        name = "memory" if layer == "in-memory" else layer
        figures.update({
            f"fanout_p99_ratio_{name}": round(pct(latencies, 99) / pct(baseline, 99), 2),
            f"fanout_p50_ratio_{name}": round(pct(latencies, 50) / pct(baseline, 50), 2),
            f"echo_p50_ms_{name}": round(ms(baseline, 50), 1), f"echo_p99_ms_{name}": round(ms(baseline, 99), 1),
            f"fanout_p50_ms_{name}": round(ms(latencies, 50), 1), f"fanout_p99_ms_{name}": round(ms(latencies, 99), 1),
        })
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""`make run` as a newcomer starts it (scripts/run.sh on other ports, its own Redis, sandbox and
workers): /healthz and /readyz answer 200, and a ticket closed on the page of one process has
its co-browse session ended by the worker process, the open page turning to "Ended" live, every try."""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
import websockets
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from tests.chat.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
TRIES = 5
LINK_SESSIONS = """
import json
from helpdesk.models import Agent, Ticket
from integrations.cobrowse import services
from integrations.cobrowse.models import SessionLink
alice = Agent.objects.get(user__username="alice")
sessions = [s["id"] for s in services.admin_client().iter_sessions(state=["active"], agent="all")][:{tries}]
tickets = Ticket.objects.filter(team=alice.team).exclude(status="closed").order_by("pk")[:{tries}]
pairs = {{}}
for ticket, session_id in zip(tickets, sessions):
    SessionLink.objects.create(ticket=ticket, session_id=session_id, agent=alice, state="active")
    pairs[ticket.pk] = session_id
print("PAIRS=" + json.dumps(pairs))
"""


@pytest.fixture(scope="module")
def make_run():
    if connection.vendor != "sqlite":
        pytest.skip("make run's own defaults (SQLite, a Redis of its own) are tested in the SQLite run")
    var = Path(tempfile.mkdtemp(prefix="mr-"))  # short: the Redis unix socket lives here
    port, sandbox_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "REDIS_URL", "REDIS_CACHE_URL", "COBROWSE_API", "DJANGO_SETTINGS_MODULE",
                          "PROMETHEUS_MULTIPROC_DIR"}}
    env.update(PORT=str(port), SANDBOX_PORT=str(sandbox_port), HELPDESK_VAR_DIR=str(var))
    log = (var / "run.log").open("w")
    process = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    run = {"base": base, "port": port, "sandbox": f"http://127.0.0.1:{sandbox_port}", "var": var, "env": env,
           "process": process, "log": lambda: (var / "run.log").read_text()[-4000:]}
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, run["log"]()
            try:
                if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, run["log"]()
            time.sleep(0.5)
        yield run
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        shutil.rmtree(var, ignore_errors=True)


def test_health_answers_200_with_every_check(make_run):
    assert requests.get(f"{make_run['base']}/healthz", timeout=5).json() == {"status": "ok"}
    response = requests.get(f"{make_run['base']}/readyz", timeout=10)
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["channel_layer"]["backend"] == "RedisChannelLayer"
    assert set(checks["workers"]["queues"]) == {"default", "cobrowse"}
    assert all(check["ok"] for check in checks.values())


def sign_in(base):
    session = requests.Session()
    session.get(f"{base}/login/", timeout=10)
    response = session.post(f"{base}/login/", data={"username": "alice", "password": "demo1234"},
                            headers={"X-CSRFToken": session.cookies["csrftoken"]}, timeout=10)
    assert response.url.endswith("/tickets/"), response.url
    return session


async def close_and_watch(run, session, ticket_id, session_id):
    cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    url = f"ws://127.0.0.1:{run['port']}/ws/tickets/{ticket_id}/"
    async with websockets.connect(url, origin=run["base"], additional_headers={"Cookie": cookies}) as socket:
        await asyncio.sleep(0.3)  # the page's socket has joined the ticket's group
        started = time.monotonic()
        response = await asyncio.to_thread(
            session.post, f"{run['base']}/tickets/{ticket_id}/status/", data={"status": "closed"},
            headers={"X-CSRFToken": session.cookies["csrftoken"], "HX-Request": "true"}, timeout=10)
        assert response.status_code == 200, response.text[:500]
        ended = f'data-session-id="{session_id}" data-state="ended"'
        while True:
            html = await asyncio.wait_for(socket.recv(), timeout=15)
            if ended in html:
                return time.monotonic() - started


def test_a_close_ends_the_session_and_the_open_page_shows_it_every_try(make_run):
    sandbox_key = (make_run["var"] / "cobrowse" / "license_key.txt").read_text().strip()
    created = requests.post(f"{make_run['sandbox']}/__sandbox__/sessions/bulk",
                            json={"license_key": sandbox_key, "count": TRIES}, timeout=30)
    assert created.status_code == 200, created.text
    env = {**make_run["env"], "DEBUG": "true", "COBROWSE_API": make_run["sandbox"],
           "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8"}
    shell = subprocess.run([".venv/bin/python", "manage.py", "shell", "-c", LINK_SESSIONS.format(tries=TRIES)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "PAIRS=" in shell.stdout, shell.stdout + shell.stderr[-3000:]
    pairs = json.loads(shell.stdout.split("PAIRS=")[1])
    assert len(pairs) == TRIES, shell.stdout + shell.stderr
    session = sign_in(make_run["base"])
    seconds = [asyncio.run(close_and_watch(make_run, session, int(ticket_id), session_id))
               for ticket_id, session_id in pairs.items()]
    print(f"close -> 'Ended' on the open page, {TRIES} tries: " + ", ".join(f"{s:.2f} s" for s in seconds))
    for session_id in pairs.values():
        raw = requests.get(f"{make_run['sandbox']}/__sandbox__/sessions/{session_id}", timeout=10).json()
        assert raw["state"] == "ended"


def test_metrics_from_loopback_sum_every_process(make_run):
    """Runs after the closes above: the worker's end times reach the web process's /metrics."""
    response = requests.get(f"{make_run['base']}/metrics", timeout=10)
    assert response.status_code == 200
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    for name in ("helpdesk_cobrowse_ends_pending", "helpdesk_cobrowse_end_seconds", "helpdesk_tasks_pending",
                 "helpdesk_webhook_deliveries", "helpdesk_websockets_open", "helpdesk_http_requests",
                 "helpdesk_http_request_duration_seconds"):
        assert name in families, name
    ended = next(s.value for s in families["helpdesk_cobrowse_end_seconds"].samples if s.name.endswith("_count"))
    assert ended == TRIES  # observed by the cobrowse worker, another process
    pending = {s.labels["queue"]: s.value for s in families["helpdesk_tasks_pending"].samples}
    assert set(pending) == {"default", "cobrowse"}
    assert next(s.value for s in families["helpdesk_cobrowse_ends_pending"].samples) == 0

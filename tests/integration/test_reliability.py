"""Faults survived: a task worker killed in the middle of ending sessions loses no end and ends
none twice."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from helpdesk import services as helpdesk
from helpdesk.models import Event
from integrations.cobrowse import services
from integrations.cobrowse.models import SessionLink
from tests import factories as f
from tests.chat.servers import test_database_url as shared_database_url

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def start_worker(sb, settings, log):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", "DATABASE_URL": shared_database_url(),
           "COBROWSE_API": sb.url, "COBROWSE_LICENSE_KEY": sb.license_key,
           "COBROWSE_PRIVATE_KEY_FILE": str(settings.COBROWSE_PRIVATE_KEY_FILE)}
    env.pop("REDIS_URL", None)
    return subprocess.Popen([sys.executable, "manage.py", "task_worker", "--queue-name", "*", "--interval", "0.05",
                             "--no-startup-delay", "--no-reload"], cwd=ROOT, env=env,
                            stdout=log.open("a"), stderr=subprocess.STDOUT)


def test_killing_the_worker_mid_way_ends_every_session_exactly_once(cobrowse_on_sandbox, settings, tmp_path):
    sb = cobrowse_on_sandbox
    team = f.team()
    agent = f.agent(team)
    customer = f.customer(user_id="cust-r")
    sb.bulk_sessions(30, custom_data={"user_id": "cust-r"})
    sessions = [s["id"] for s in services.admin_client().iter_sessions(state=["active"], agent="all")]
    tickets = []
    for session_id in sessions:
        ticket = f.ticket(team, customer)
        SessionLink.objects.create(ticket=ticket, session_id=session_id, agent=agent, state="active")
        tickets.append(ticket)
    sb.fault("hang", seconds=0.3)  # every end takes a while: the worker dies with work in hand
    log = tmp_path / "worker.log"
    worker = start_worker(sb, settings, log)
    for ticket in tickets:
        helpdesk.close_ticket(ticket, agent)
    deadline = time.monotonic() + 20
    while SessionLink.objects.filter(ended_at__isnull=False).count() < 5:
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    killed_with = SessionLink.objects.filter(ended_at__isnull=True).count()
    assert 0 < killed_with < 30
    sb.clear_faults()

    # The task the worker held is stuck as running; the reconciler puts every stalled end back.
    requeued = services.reconcile(stale_after=timedelta(0))["requeued"]
    assert requeued == killed_with
    worker = start_worker(sb, settings, log)
    try:
        deadline = time.monotonic() + 30
        while SessionLink.objects.filter(ended_at__isnull=True).exists():
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.05)
    finally:
        worker.terminate()
        worker.wait(10)
    for session_id in sessions:
        assert sb.session_raw(session_id)["state"] == "ended"
    ended_events = Event.objects.filter(verb="cobrowse_ended").values_list("data__session_id", flat=True)
    assert sorted(ended_events) == sorted(sessions)  # each exactly once

"""The repair jobs: an unexpected exception is logged and the loop goes on, SIGTERM stops the
loop cleanly, two copies never run the same job at once; `prune` clears what nobody reads again."""

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from helpdesk.management.periodic import PeriodicCommand, single_runner
from helpdesk.models import TicketViewer
from integrations.cobrowse.tasks import reconcile
from tests import factories as f
from tests.chat.servers import test_database_url as shared_database_url

ROOT = Path(__file__).resolve().parents[2]


class Flaky(PeriodicCommand):
    runs = 0

    def run_once(self, verbose):
        Flaky.runs += 1
        if Flaky.runs == 1:
            raise RuntimeError("the database went away")
        if Flaky.runs == 3:
            os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.django_db(transaction=True)
def test_a_failing_run_is_logged_and_the_loop_goes_on_until_sigterm(caplog):
    Flaky.runs = 0
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        with caplog.at_level(logging.ERROR, logger="helpdesk.periodic"):
            Flaky().handle(every=0.01, verbosity=0)
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert Flaky.runs == 3  # the loop outlived the exception and stopped after SIGTERM
    failure = next(r for r in caplog.records if "failed" in r.getMessage())
    assert "job=test_periodic" in failure.getMessage() and failure.exc_info


@pytest.mark.django_db
def test_a_single_run_still_raises():
    Flaky.runs = 0
    with pytest.raises(RuntimeError):
        Flaky().handle(every=0, verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_a_second_copy_skips_the_job_while_the_first_holds_it():
    code = (
        "import django, sys, time; django.setup()\n"
        "from helpdesk.management.periodic import single_runner\n"
        "with single_runner('prune') as held:\n"
        "    print(held, flush=True); time.sleep(30)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": shared_database_url()}
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        with single_runner("prune") as held:
            assert held is False
        with single_runner("cobrowse_reconcile") as held:
            assert held is True  # another job's lock is free
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 5
    while True:  # the holder is gone: the lock is free again
        with single_runner("prune") as held:
            if held:
                break
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_the_repair_job_stops_on_sigterm_as_a_process():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": shared_database_url()}
    proc = subprocess.Popen([sys.executable, "manage.py", "prune", "--every", "60"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0, proc.stdout.read()


@pytest.mark.django_db
def test_prune_deletes_old_task_results_expired_sessions_and_stale_viewers(settings):
    settings.TASK_RESULTS_KEEP_DAYS = 7
    now = timezone.now()
    old, recent, pending = reconcile.enqueue(), reconcile.enqueue(), reconcile.enqueue()
    DBTaskResult.objects.filter(id__in=[old.id, recent.id]).update(status="SUCCESSFUL")
    DBTaskResult.objects.filter(id=old.id).update(finished_at=now - timedelta(days=8))
    DBTaskResult.objects.filter(id=recent.id).update(finished_at=now - timedelta(days=1))

    expired, live = SessionStore(), SessionStore()
    expired.create()
    live.create()
    Session.objects.filter(session_key=expired.session_key).update(expire_date=now - timedelta(seconds=1))

    team = f.team()
    agent = f.agent(team)
    ticket = f.ticket(team, f.customer())
    TicketViewer.objects.create(ticket=ticket, agent=agent, channel_name="gone", seen_at=now - timedelta(hours=1))
    TicketViewer.objects.create(ticket=ticket, agent=agent, channel_name="here", seen_at=now)

    call_command("prune", verbosity=0)

    assert {str(i) for i in DBTaskResult.objects.values_list("id", flat=True)} == {recent.id, pending.id}
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    assert list(TicketViewer.objects.values_list("channel_name", flat=True)) == ["here"]

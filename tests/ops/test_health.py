"""/healthz and /readyz: each dependency ok or failing with a reason, 200 only when all are ok; a
stopped task worker turns /readyz to 503 within its heartbeat's maximum age."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from helpdesk.ops import health
from helpdesk.ops.models import WorkerHeartbeat
from integrations.cobrowse.tasks import end_session
from tests.chat.servers import free_port
from tests.chat.servers import test_database_url as shared_database_url

ROOT = Path(__file__).resolve().parents[2]
QUEUES = ("default", "cobrowse")


def beat(worker_id, queues, age=0):
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(worker_id=worker_id, defaults={
        "queues": queues, "host": "test", "pid": 1, "started_at": now - timedelta(hours=1),
        "seen_at": now - timedelta(seconds=age)})


def readyz(client=None):
    response = (client or Client()).get("/readyz")
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response.status_code, response.json()


def test_healthz_answers_without_the_database_or_a_session():
    response = Client().get("/healthz")  # no django_db mark: any query would raise
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert not response.cookies


@pytest.mark.django_db
def test_ready_when_every_queue_has_a_live_worker():
    beat("w-cobrowse", "cobrowse")
    beat("w-default", "default", age=5)
    status, body = readyz()
    assert status == 200, body
    assert body["status"] == "ok"
    checks = body["checks"]
    assert set(checks) == {"database", "cache", "channel_layer", "workers", "tasks"}
    assert all(check["ok"] for check in checks.values())
    assert checks["workers"]["queues"]["default"]["heartbeat_age_seconds"] >= 5
    assert checks["workers"]["queues"]["cobrowse"]["workers"] == 1
    assert checks["tasks"]["queues"] == {q: {"ok": True, "oldest_pending_seconds": None} for q in QUEUES}


@pytest.mark.django_db
def test_a_worker_of_every_queue_counts_for_each():
    beat("w-all", "*")
    status, body = readyz()
    assert status == 200, body


@pytest.mark.django_db
def test_a_queue_without_a_worker_fails_with_its_name():
    beat("w-default", "default")
    status, body = readyz()
    assert status == 503
    assert body["status"] == "failing"
    workers = body["checks"]["workers"]
    assert workers["ok"] is False
    assert workers["queues"]["default"]["ok"] is True
    assert workers["queues"]["cobrowse"] == {"ok": False, "reason": "no task worker serves queue 'cobrowse'"}
    assert body["checks"]["database"]["ok"] and body["checks"]["channel_layer"]["ok"]


@pytest.mark.django_db
def test_a_stale_heartbeat_fails_and_says_how_old_it_is(settings):
    settings.WORKER_HEARTBEAT_MAX_AGE = 30
    beat("w-default", "default")
    beat("w-cobrowse", "cobrowse", age=45)
    status, body = readyz()
    assert status == 503
    report = body["checks"]["workers"]["queues"]["cobrowse"]
    assert report["ok"] is False and report["workers"] == 0
    assert report["reason"].startswith("no heartbeat from a worker of queue 'cobrowse' for 4")


@pytest.mark.django_db
def test_a_task_waiting_too_long_fails_its_queue(settings):
    settings.READYZ_TASK_MAX_AGE = 60
    beat("w-all", "*")
    waiting = end_session.enqueue(10**9)
    DBTaskResult.objects.filter(pk=waiting.id).update(enqueued_at=timezone.now() - timedelta(seconds=90))
    # A retry scheduled for later is not waiting yet; one whose time came 10 s ago has waited 10 s.
    later = end_session.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(10**9 + 1)
    due = end_session.using(run_after=timezone.now() - timedelta(seconds=10)).enqueue(10**9 + 2)
    DBTaskResult.objects.filter(pk__in=[later.id, due.id]).update(enqueued_at=timezone.now() - timedelta(days=1))
    status, body = readyz()
    assert status == 503
    report = body["checks"]["tasks"]["queues"]["cobrowse"]
    assert report["ok"] is False and report["oldest_pending_seconds"] >= 90
    assert "has waited 9" in report["reason"]
    assert body["checks"]["tasks"]["queues"]["default"]["ok"] is True

    DBTaskResult.objects.filter(pk=waiting.id).delete()
    status, body = readyz()
    assert status == 200, body
    assert 10 <= body["checks"]["tasks"]["queues"]["cobrowse"]["oldest_pending_seconds"] < 60


@pytest.mark.django_db
def test_an_unreachable_cache_is_a_report_not_an_error(settings):
    beat("w-all", "*")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    status, body = readyz()
    assert status == 503
    assert body["checks"]["cache"]["ok"] is False
    assert "ConnectionError" in body["checks"]["cache"]["reason"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_an_unreachable_channel_layer_is_a_report_not_an_error(settings):
    beat("w-all", "*")
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]}}}
    status, body = readyz()
    assert status == 503
    assert body["checks"]["channel_layer"]["ok"] is False
    assert body["checks"]["channel_layer"]["reason"]


@pytest.mark.django_db
def test_a_failing_database_fails_the_checks_that_need_it(monkeypatch):
    def unreachable():
        raise ConnectionRefusedError("connection to the database refused")

    monkeypatch.setattr(health, "check_database", unreachable)
    status, body = readyz()
    assert status == 503
    assert body["checks"]["database"] == {"ok": False,
                                          "reason": "ConnectionRefusedError: connection to the database refused"}
    assert body["checks"]["workers"] == {"ok": False, "reason": "the database is not reachable"}


@pytest.mark.django_db
def test_probes_are_not_redirected_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    beat("w-all", "*")
    client = Client()
    assert client.get("/login/").status_code == 301
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_prune_removes_heartbeats_of_workers_gone_for_a_day():
    beat("w-gone", "default", age=2 * 24 * 3600)
    beat("w-live", "default")
    call_command("prune", verbosity=0)
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["w-live"]


def start_worker(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", "DATABASE_URL": shared_database_url(),
           "WORKER_HEARTBEAT_SECONDS": "0.2", "WORKER_HEARTBEAT_MAX_AGE": "1", "HELPDESK_VAR_DIR": str(tmp_path)}
    return subprocess.Popen(
        [sys.executable, "manage.py", "task_worker", "--queue-name", "default,cobrowse", "--worker-id", "w-sub",
         "--interval", "0.1", "--no-startup-delay", "--no-reload"],
        cwd=ROOT, env=env, stdout=(tmp_path / "worker.log").open("w"), stderr=subprocess.STDOUT)


def wait_for_status(expected, tmp_path, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        status, body = readyz()
        if status == expected:
            return body
        assert time.monotonic() < deadline, (body, (tmp_path / "worker.log").read_text()[-2000:])
        time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
def test_a_stopped_worker_turns_readyz_to_503_and_a_clean_stop_removes_its_heartbeat(settings, tmp_path):
    settings.WORKER_HEARTBEAT_MAX_AGE = 1
    worker = start_worker(tmp_path)
    try:
        wait_for_status(200, tmp_path)
        os.kill(worker.pid, signal.SIGSTOP)
        body = wait_for_status(503, tmp_path)
        assert "no heartbeat from a worker of queue" in body["checks"]["workers"]["queues"]["cobrowse"]["reason"]
        os.kill(worker.pid, signal.SIGCONT)
        wait_for_status(200, tmp_path)
        worker.terminate()
        assert worker.wait(10) == 0
        assert not WorkerHeartbeat.objects.filter(worker_id="w-sub").exists()
    finally:
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGCONT)
            worker.kill()
            worker.wait(5)


@pytest.mark.django_db
def test_probes_may_use_head():
    beat("w-all", "*")
    assert Client().head("/healthz").status_code == 200
    assert Client().head("/readyz").status_code == 200

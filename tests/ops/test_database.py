"""Database connections: the pool on PostgreSQL, persistent connections without it.

The settings cases start a process with an environment built here (nothing inherited from the test
process), as an operator's process would start; they need no database. The pool cases need the test
database to be PostgreSQL and skip, saying so, on SQLite."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from asgiref.testing import ApplicationCommunicator
from django.db import connection
from django.http import HttpResponse
from django.urls import path

from helpdesk.asgi_handler import PooledThreadASGIHandler

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = "postgres://helpdesk@db.invalid:5432/helpdesk"  # never connected to: settings only
SQLITE_OPTIONS = {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "timeout": 20,
                  "transaction_mode": "IMMEDIATE"}


def run(code, tmp_path, **env):
    environment = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
                   "DEBUG": "true", "HELPDESK_VAR_DIR": str(tmp_path), **env}
    return subprocess.run([sys.executable, *code], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=120)


def database_of(tmp_path, wsgi=False, **env):
    """DATABASES["default"] in a process started with this environment; with wsgi, one that loads
    its settings through helpdesk/wsgi.py, as gunicorn does."""
    show = ("from django.conf import settings; import json; "
            "print('DB=' + json.dumps(settings.DATABASES['default'], default=str))")
    if wsgi:
        result = run(["-c", f"import helpdesk.wsgi; {show}"], tmp_path, **env)
    else:
        result = run(["manage.py", "shell", "--no-imports", "-c", show], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("DB="))
    return json.loads(line.removeprefix("DB="))


def test_postgresql_gets_a_pool_and_no_persistent_connections(tmp_path):
    for wsgi in (False, True):
        db = database_of(tmp_path, wsgi=wsgi, DATABASE_URL=POSTGRES)
        assert db["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 10, "timeout": 10.0}
        assert db["CONN_MAX_AGE"] == 0
        assert db["CONN_HEALTH_CHECKS"] is True


def test_the_pool_sizes_and_timeout_come_from_the_environment(tmp_path):
    db = database_of(tmp_path, DATABASE_URL=POSTGRES, DB_POOL_MIN_SIZE="2", DB_POOL_MAX_SIZE="20",
                     DB_POOL_TIMEOUT="2.5")
    assert db["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 20, "timeout": 2.5}


def test_without_the_pool_every_server_keeps_its_connections_with_health_checks(tmp_path):
    # A WSGI worker's threads, and the ASGI handler's, serve one request after another.
    for wsgi in (False, True):
        db = database_of(tmp_path, wsgi=wsgi, DATABASE_URL=POSTGRES, DB_POOL="false")
        assert "pool" not in db["OPTIONS"]
        assert db["CONN_MAX_AGE"] == 60
        assert db["CONN_HEALTH_CHECKS"] is True


def test_an_explicit_conn_max_age_wins_over_the_server_default(tmp_path):
    assert database_of(tmp_path, DATABASE_URL=POSTGRES, DB_POOL="false", DB_CONN_MAX_AGE="300")["CONN_MAX_AGE"] == 300
    assert database_of(tmp_path, wsgi=True, DB_CONN_MAX_AGE="0")["CONN_MAX_AGE"] == 0


def test_sqlite_ignores_the_pool_and_keeps_its_options(tmp_path):
    asgi = database_of(tmp_path, DB_POOL="true", DB_POOL_MAX_SIZE="4")
    wsgi = database_of(tmp_path, wsgi=True)
    for db in (asgi, wsgi):
        assert db["ENGINE"] == "django.db.backends.sqlite3"
        assert db["OPTIONS"] == SQLITE_OPTIONS
        assert db["CONN_HEALTH_CHECKS"] is True
    assert (asgi["CONN_MAX_AGE"], wsgi["CONN_MAX_AGE"]) == (60, 60)


@pytest.mark.parametrize(("name", "value"), [
    ("DB_POOL", "maybe"),
    ("DB_POOL_MAX_SIZE", "0"),
    ("DB_POOL_MAX_SIZE", "abc"),
    ("DB_POOL_MIN_SIZE", "-1"),
    ("DB_POOL_TIMEOUT", "0"),
    ("DB_POOL_TIMEOUT", "ten"),
    ("DB_CONN_MAX_AGE", "-5"),
])
def test_a_bad_value_stops_the_process_naming_the_variable(name, value, tmp_path):
    # DB_CONN_MAX_AGE is checked without the pool, where any value of 0 or more is allowed.
    env = {"DATABASE_URL": POSTGRES, "DB_POOL": "false" if name == "DB_CONN_MAX_AGE" else "true", name: value}
    result = run(["manage.py", "check"], tmp_path, **env)
    assert result.returncode != 0
    assert "Configuration error" in result.stderr and name in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("env", "words"), [
    ({"DB_POOL_MIN_SIZE": "5", "DB_POOL_MAX_SIZE": "2"}, ["DB_POOL_MIN_SIZE", "DB_POOL_MAX_SIZE"]),
    ({"DB_CONN_MAX_AGE": "60"}, ["DB_CONN_MAX_AGE", "DB_POOL"]),
])
def test_contradicting_values_stop_the_process(env, words, tmp_path):
    result = run(["manage.py", "check"], tmp_path, DATABASE_URL=POSTGRES, **env)
    assert result.returncode != 0
    assert "Configuration error" in result.stderr and "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


# --- On PostgreSQL: requests borrow pooled connections ------------------------------------------


def backend_pid(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return HttpResponse(str(cursor.fetchone()[0]))


urlpatterns = [path("pid/", backend_pid)]


@pytest.fixture
def pool():
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL: the test database is {connection.vendor} (set DATABASE_URL=postgres://...)")
    assert connection.pool is not None
    connection.pool.pop_stats()
    return connection.pool


def assert_reused(pool, pids):
    # Each request ran in a thread of its own; without the pool each would have had a new backend.
    assert len(set(pids)) < len(pids), pids
    stats = pool.pop_stats()
    assert stats["requests_num"] >= len(pids)
    assert stats.get("connections_num", 0) < len(pids)


@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
def test_requests_on_threads_of_a_wsgi_server_reuse_pooled_connections(pool, live_server):
    # The live server answers each request on a new thread and closes its connections afterwards.
    pids = [requests.get(f"{live_server.url}/pid/", timeout=10).text for _ in range(6)]
    assert_reused(pool, pids)


@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True)
async def test_requests_through_the_asgi_handler_reuse_pooled_connections(pool):
    # Each request borrows a pooled connection and gives it back, whatever thread it ran on.
    app = PooledThreadASGIHandler(threads=3)
    pids = []
    for _ in range(6):
        communicator = ApplicationCommunicator(app, {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": "/pid/", "raw_path": b"/pid/", "query_string": b"", "root_path": "",
            "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 80),
        })
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await communicator.receive_output(10)
        assert start["status"] == 200, start
        body = await communicator.receive_output(10)
        pids.append(body["body"].decode())
        await communicator.wait(10)
    assert_reused(pool, pids)

"""Real helpdesk servers for tests: daphne subprocesses (helpdesk.asgi:application) on free ports,
sharing the test database (and Redis when given), so websockets work as in production."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reachable(host, port):
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def test_database_url():
    """The URL of the database this test runs on (its committed rows are what the servers see)."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "") + (f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class HelpdeskServer:
    def __init__(self, var_dir, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        var_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = var_dir / f"daphne-{self.port}.log"
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", "HELPDESK_VAR_DIR": str(var_dir),
                    "DATABASE_URL": test_database_url(), "LOG_LEVEL": "WARNING", **env}
        if not env.get("REDIS_URL"):
            self.env.pop("REDIS_URL", None)
            self.env.pop("REDIS_CACHE_URL", None)
        self.process = None

    def start(self, timeout=30):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "helpdesk.ws_server", "-b", "127.0.0.1", "-p", str(self.port), "helpdesk.asgi:application"],
            cwd=ROOT, env=self.env, stdout=self.log_path.open("w"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(f"{self.url}/login/", timeout=1)
                return self
            except requests.RequestException:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"daphne did not start:\n{self.log()}")
                time.sleep(0.1)

    def log(self):
        return self.log_path.read_text()[-3000:] if self.log_path.exists() else ""

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(3)
            except subprocess.TimeoutExpired:  # open websockets hold a graceful shutdown; not needed here
                self.process.kill()
                self.process.wait(5)

"""LOG_FORMAT=json writes one JSON object per line carrying the request id the response names."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import django, sys
django.setup()
from django.test import Client
response = Client(HTTP_HOST="127.0.0.1").get("/no-such-page/", headers={"X-Request-ID": sys.argv[1]} if sys.argv[1] else {})
print(response["X-Request-ID"], flush=True)
"""


def run(log_format, offered=""):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "LOG_FORMAT": log_format}
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", SCRIPT, offered], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout.strip().splitlines()[-1], done.stderr.strip().splitlines()


def test_json_logs_are_one_object_per_line_with_the_request_id():
    request_id, lines = run("json")
    records = [json.loads(line) for line in lines]  # every line is JSON
    not_found = next(r for r in records if r["message"] == "Not Found: /no-such-page/")
    assert not_found["request_id"] == request_id and len(request_id) == 32
    assert not_found["level"] == "WARNING" and not_found["logger"] == "django.request" and not_found["time"]


def test_a_proxy_request_id_is_kept_and_a_malformed_one_replaced():
    request_id, lines = run("text", "edge-4f1c2a9b")
    assert request_id == "edge-4f1c2a9b"
    assert any("[edge-4f1c2a9b] Not Found: /no-such-page/" in line for line in lines)
    request_id, _ = run("text", "bad id\\r\\nInjected: 1")
    assert request_id != "bad id\\r\\nInjected: 1" and len(request_id) == 32


def test_an_unknown_log_format_is_a_configuration_error():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "LOG_FORMAT": "xml"}
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "LOG_FORMAT" in done.stdout + done.stderr


def test_the_suite_log_check_finds_a_token_a_key_and_a_configured_secret(settings):
    from tests.fixtures.log_secrets import secrets_in

    lines = ["cobrowse: ended ses_1 on ticket 4", "token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhQGV4LmNvbSJ9.c2ln",
             "-----BEGIN PRIVATE KEY-----", f"key {settings.FIELD_ENCRYPTION_KEYS[0]}", f"sk {settings.SECRET_KEY}"]
    assert secrets_in(lines, settings) == lines[1:]

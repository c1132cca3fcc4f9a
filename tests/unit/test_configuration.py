"""Settings fail closed: each case starts `manage.py` in a subprocess with an environment built here
(nothing inherited from the test process), as an operator's process would start."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.environment import TEST_ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "deploy/production.env.example"
# The values a process with DEBUG off cannot start without.
REQUIRED = {name: TEST_ENVIRONMENT[name]
            for name in ("SECRET_KEY", "COBROWSE_API", "FIELD_ENCRYPTION_KEYS", "HELPDESK_PUBLIC_URL")}


def manage(*args, **env):
    """Run manage.py with exactly this environment (plus PATH and the settings module)."""
    environment = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "helpdesk.settings", **env}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def settings_of(names, **env):
    """The values of these settings in a process started with this environment."""
    code = ("import json; from django.conf import settings; "
            f"print('SETTINGS=' + json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))")
    result = manage("shell", "--no-imports", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("SETTINGS="))
    return json.loads(line.removeprefix("SETTINGS="))


def assert_refused(result, *words):
    assert result.returncode != 0
    assert "Configuration error" in result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_check_refuses_to_start_without_a_required_value_when_debug_is_off(missing, tmp_path):
    env = {name: value for name, value in REQUIRED.items() if name != missing}
    assert_refused(manage("check", HELPDESK_VAR_DIR=str(tmp_path), **env), missing)


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_an_empty_required_value_is_refused_too(missing, tmp_path):
    env = {**REQUIRED, missing: ""}
    assert_refused(manage("check", HELPDESK_VAR_DIR=str(tmp_path), **env), missing)


def test_check_passes_with_the_required_values_set(tmp_path):
    result = manage("check", HELPDESK_VAR_DIR=str(tmp_path), **REQUIRED)
    assert result.returncode == 0, result.stderr


def test_debug_on_needs_no_production_value(tmp_path):
    result = manage("check", DEBUG="true", HELPDESK_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr


def test_a_misspelt_boolean_is_refused_not_read_as_false(tmp_path):
    result = manage("check", DEBUG="ture", HELPDESK_VAR_DIR=str(tmp_path), **REQUIRED)
    assert_refused(result, "DEBUG")


def test_an_invalid_integer_is_refused(tmp_path):
    result = manage("check", CHAT_GRACE_SECONDS="two minutes", HELPDESK_VAR_DIR=str(tmp_path), **REQUIRED)
    assert_refused(result, "CHAT_GRACE_SECONDS")


@pytest.mark.parametrize(("name", "value"), [
    ("AXES_FAILURE_LIMIT", "0"),
    ("AXES_COOLOFF_MINUTES", "0"),
    ("AXES_PROXY_COUNT", "-1"),
    ("PASSWORD_MIN_LENGTH", "4"),
    ("SECURE_HSTS_SECONDS", "-5"),
])
def test_a_value_out_of_its_range_is_refused(name, value, tmp_path):
    result = manage("check", HELPDESK_VAR_DIR=str(tmp_path), **{**REQUIRED, name: value})
    assert_refused(result, name)


@pytest.mark.parametrize("value", [
    "HTTP_X_FORWARDED_PROTO",            # no value
    "HTTP_X_FORWARDED_PROTO,https,http",  # too many parts
    "X-Forwarded-Proto,https",           # not the request.META name: would never match
    "HTTP_X_FORWARDED_PROTO,",           # empty value
    ",https",                            # empty header
])
def test_a_malformed_proxy_ssl_header_is_refused(value, tmp_path):
    result = manage("check", SECURE_PROXY_SSL_HEADER=value, HELPDESK_VAR_DIR=str(tmp_path), **REQUIRED)
    assert_refused(result, "SECURE_PROXY_SSL_HEADER")


def test_a_well_formed_proxy_ssl_header_is_read_as_a_pair(tmp_path):
    values = settings_of(["SECURE_PROXY_SSL_HEADER"], SECURE_PROXY_SSL_HEADER=" HTTP_X_FORWARDED_PROTO , https",
                         HELPDESK_VAR_DIR=str(tmp_path), **REQUIRED)
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_the_production_example_passes_the_deployment_check_on_its_own():
    result = manage("check", "--deploy", "--fail-level", "WARNING", ENV_FILE=EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deployment_check_fails_when_the_example_is_weakened():
    result = manage("check", "--deploy", "--fail-level", "WARNING", ENV_FILE=EXAMPLE, SECURE_HSTS_SECONDS="0")
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


def test_debug_off_defaults_to_secure_cookies_hsts_and_https_redirect(tmp_path):
    values = settings_of(
        ["DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT",
         "SESSION_COOKIE_HTTPONLY", "X_FRAME_OPTIONS", "CHAT_DEMO_PAGE"],
        HELPDESK_VAR_DIR=str(tmp_path), **REQUIRED,
    )
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] > 0
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["CHAT_DEMO_PAGE"] is False


def test_debug_on_relaxes_the_transport_defaults(tmp_path):
    values = settings_of(["SESSION_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT"],
                         DEBUG="true", HELPDESK_VAR_DIR=str(tmp_path))
    assert values == {"SESSION_COOKIE_SECURE": False, "SECURE_HSTS_SECONDS": 0, "SECURE_SSL_REDIRECT": False}


def test_the_environment_wins_over_the_env_file(tmp_path):
    values = settings_of(["SECURE_HSTS_SECONDS", "COBROWSE_API"], ENV_FILE=EXAMPLE, SECURE_HSTS_SECONDS="60",
                         DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert values == {"SECURE_HSTS_SECONDS": 60, "COBROWSE_API": "https://cobrowse.io"}


# --- Content-Security-Policy ----------------------------------------------------------------------

def parse_csp(header):
    """{directive: [sources]} of a Content-Security-Policy header value."""
    policy = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            policy[words[0].lower()] = words[1:]
    return policy


def cobrowse_origins(urls):
    return {"/".join(url.split("/")[:3]) for url in urls}


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_limited_to_self_and_the_allowed_cobrowse_origins(as_alice, settings):
    from helpdesk import settings as configured  # the policy as settings.py built it (fixtures extend it)

    settings.CONTENT_SECURITY_POLICY = configured.CONTENT_SECURITY_POLICY
    response = as_alice.get("/tickets/")
    assert response.status_code == 200
    policy = parse_csp(response["Content-Security-Policy"])
    allowed = {"'self'"} | cobrowse_origins(configured.COBROWSE_API_ALLOWED)
    assert allowed == {"'self'", "http://127.0.0.1:8001"}  # tests/environment.py's COBROWSE_API
    assert set(policy["frame-src"]) == allowed
    # The agent SDK also opens a websocket to the Cobrowse API ({API}/sockets/1/ws).
    assert set(policy["connect-src"]) == allowed | {"ws://127.0.0.1:8001"}
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)


def test_the_csp_names_each_allowed_cobrowse_origin_once_and_nothing_else(tmp_path):
    code = ("from django.test import Client; "
            "r = Client().get('/login/', HTTP_HOST='127.0.0.1'); "
            "print('STATUS=%s' % r.status_code); print('CSP=' + r['Content-Security-Policy'])")
    env = {**REQUIRED, "COBROWSE_API": "https://cobrowse.io",
           "COBROWSE_API_ALLOWED": "https://cobrowse.io/,https://eu.cobrowse.io/api,https://cobrowse.io"}
    result = manage("shell", "--no-imports", "-c", code, HELPDESK_VAR_DIR=str(tmp_path), SECURE_SSL_REDIRECT="false",
                    **env)
    assert result.returncode == 0, result.stderr
    assert "STATUS=200" in result.stdout
    header = next(line for line in result.stdout.splitlines() if line.startswith("CSP=")).removeprefix("CSP=")
    policy = parse_csp(header)
    assert sorted(policy["frame-src"]) == ["'self'", "https://cobrowse.io", "https://eu.cobrowse.io"]
    assert sorted(policy["connect-src"]) == ["'self'", "https://cobrowse.io", "https://eu.cobrowse.io",
                                             "wss://cobrowse.io", "wss://eu.cobrowse.io"]
    assert "127.0.0.1" not in header

"""The production layout end to end: scripts/prod.sh starts nginx (TLS, with the certificate made
here), gunicorn, two daphne processes, the task workers and the repair jobs under honcho, against a
PostgreSQL database and Redis databases of its own, and the test works it across its processes:

- a chat widget on one daphne and an agent on the other see each other's messages (the agent's
  reply posted through gunicorn);
- a ticket closed through gunicorn ends its co-browse session at the sandbox, and the agent's open
  ticket page (its socket through nginx) shows the session Ended;
- static files come from nginx with long cache headers, /metrics is refused to other clients;
- /readyz is 200, turns 503 naming the queue when its worker is stopped, and 200 again after;
- SIGTERM to prod.sh stops every process of the layout.

Only on PostgreSQL with REDIS_URL set (the suite's second run, scripts/test.sh): skipped otherwise.
The nginx template is also rendered and checked by `nginx -t` alone, on every run.
"""

import asyncio
import datetime
import http.client
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg
import pytest
import redis
import requests
import websockets
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from psycopg import sql

from tests.chat.servers import free_port
from tests.fixtures.log_secrets import JWT
from tests.fixtures.sandbox import SandboxAccount

pytestmark = pytest.mark.sandbox
ROOT = Path(__file__).resolve().parents[2]
REDIS_DBS = (5, 6)  # the suite uses 0 and 1, `make prod` 2 and 3
WIDGET_ORIGIN = "https://shop.e2e.test"
HEARTBEAT_MAX_AGE = 6
START_DEADLINE = 120
IDLE_SECONDS = 8
PASSWORD = f"e2e-{uuid.uuid4().hex}"

SEED = r"""
import json, os
from django.contrib.auth import get_user_model
from helpdesk import services
from helpdesk.chat import identity
from helpdesk.chat.models import ChatSite
from helpdesk.models import Agent, Customer, Team
from integrations.cobrowse import services as cobrowse
from integrations.cobrowse.models import SessionLink

team = Team.objects.create(name="E2E", slug="e2e")
user = get_user_model().objects.create_user("e2e-agent", "e2e@example.com", os.environ["E2E_PASSWORD"])
agent = Agent.objects.create(user=user, team=team, display_name="Erin Agent")
site = ChatSite.objects.create(key="e2e-shop", name="E2E shop", team=team, allowed_origins=os.environ["E2E_ORIGIN"])
customer = Customer.objects.create(user_id="cust-e2e-cobrowse", name="Cora Browse", email="cora@example.com")
ticket = services.open_ticket(customer=customer, subject="Co-browse end to end", body="Please look", team=team)
session_id = next(iter(cobrowse.admin_client().iter_sessions(state=["active"], agent="all")))["id"]
link = SessionLink.objects.create(ticket=ticket, session_id=session_id, agent=agent, state="active")
print(json.dumps({"ticket": ticket.pk, "session": session_id,
                  "identity": identity.signed_identity(site.secret, "cust-e2e-chat")}))
"""


def _skip(reason):
    print(f"SKIPPED: {reason}")
    pytest.skip(reason)


def _nginx():
    return shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")


def _self_signed(directory):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class Layout:
    def __init__(self, tmp, sandbox, database_url, redis_urls):
        self.tmp = tmp
        self.sandbox = sandbox
        self.var = tmp / "prod"
        self.log_path = tmp / "prod.log"
        self.cert, self.key = _self_signed(tmp)
        self.ports = {name: free_port() for name in ("PROD_PORT", "PROD_HTTP_PORT", "GUNICORN_PORT", "WS1_PORT", "WS2_PORT")}
        self.url = f"https://127.0.0.1:{self.ports['PROD_PORT']}"
        self.ws1 = f"ws://127.0.0.1:{self.ports['WS1_PORT']}"
        self.ws2 = f"ws://127.0.0.1:{self.ports['WS2_PORT']}"
        private_key = tmp / "cobrowse_agent_key.pem"
        private_key.write_text(sandbox.private_key_pem)
        self.secret_key = f"e2e-{uuid.uuid4().hex}{uuid.uuid4().hex}"
        self.field_key = Fernet.generate_key().decode()
        values = {
            "DEBUG": "false", "SECRET_KEY": self.secret_key, "FIELD_ENCRYPTION_KEYS": self.field_key,
            "ALLOWED_HOSTS": "127.0.0.1", "HELPDESK_PUBLIC_URL": self.url,
            "DATABASE_URL": database_url, "REDIS_URL": redis_urls[0], "REDIS_CACHE_URL": redis_urls[1],
            "COBROWSE_API": sandbox.url, "COBROWSE_LICENSE_KEY": sandbox.license_key,
            "COBROWSE_PRIVATE_KEY_FILE": str(private_key), "COBROWSE_DENY_UNRESTRICTED_TEAMS": "false",
            "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8,::1",
            "SECURE_HSTS_SECONDS": "31536000", "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true", "SECURE_HSTS_PRELOAD": "true",
            "HELPDESK_VAR_DIR": str(tmp / "var"), "STATIC_ROOT": str(tmp / "static"),
            "WORKER_HEARTBEAT_SECONDS": "1", "WORKER_HEARTBEAT_MAX_AGE": str(HEARTBEAT_MAX_AGE),
        }
        self.env_file = tmp / "production.env"
        self.env_file.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
        # Nothing of the suite's own environment (DJANGO_SETTINGS_MODULE=tests.settings, its
        # DATABASE_URL): the layout gets what a deployer gives it.
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", str(tmp)),
                    "LANG": "C.UTF-8", "ENV_FILE": str(self.env_file), "PROD_VAR": str(self.var),
                    "TLS_CERT": str(self.cert), "TLS_KEY": str(self.key), "WEB_CONCURRENCY": "2",
                    **{name: str(port) for name, port in self.ports.items()}}
        self.process = None

    # --- running it -----------------------------------------------------------------------

    def start(self):
        self.process = subprocess.Popen(["bash", "scripts/prod.sh"], cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                                        stdout=self.log_path.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_DEADLINE
        while True:
            assert self.process.poll() is None, f"scripts/prod.sh exited with {self.process.returncode}:\n{self.log()}"
            assert time.monotonic() < deadline, f"/readyz not 200 within {START_DEADLINE} s:\n{self.log()}"
            try:
                if self.get("/readyz", timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.5)

    def log(self, tail=6000):
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-tail:] if tail else text

    def pid(self, name):
        """The pid honcho started a Procfile process with (its process group: honcho starts each alone)."""
        found = re.findall(rf"\| {re.escape(name)}\.1 started \(pid=(\d+)\)", self.log(tail=None))
        assert found, f"honcho did not report starting {name}:\n{self.log()}"
        return int(found[-1])

    def processes(self):
        """Every live process whose environment is this layout's (its PROD_VAR)."""
        marker = f"PROD_VAR={self.var}\0".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                try:
                    if marker in (entry / "environ").read_bytes() and _alive(int(entry.name)):
                        found.append(int(entry.name))
                except OSError:
                    continue
        return found

    def stop(self, timeout=40):
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill_leftovers(self):
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def manage(self, *args, **env):
        return subprocess.run([str(ROOT / ".venv/bin/python"), "manage.py", *args], cwd=ROOT, env={**self.env, **env},
                              capture_output=True, text=True, timeout=60)

    # --- talking to it --------------------------------------------------------------------

    def get(self, path, session=None, **kwargs):
        return (session or requests).get(f"{self.url}{path}", verify=str(self.cert), allow_redirects=False,
                                         timeout=kwargs.pop("timeout", 15), **kwargs)

    def post(self, session, path, data):
        return session.post(f"{self.url}{path}", data=data, verify=str(self.cert), allow_redirects=False, timeout=15,
                            headers={"Origin": self.url, "X-CSRFToken": session.cookies["csrftoken"]})

    def sign_in(self):
        session = requests.Session()
        assert self.get("/login/", session).status_code == 200
        response = self.post(session, "/login/", {"username": "e2e-agent", "password": PASSWORD})
        assert response.status_code == 302, response.text[:2000]
        assert session.cookies.get("sessionid")
        return session

    def tls_context(self):
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def layout(request, tmp_path_factory):
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        _skip("the production layout runs on PostgreSQL: run with DATABASE_URL=postgres://… (scripts/test.sh's second run)")
    if not os.environ.get("REDIS_URL"):
        _skip("the production layout needs Redis: run with REDIS_URL set (scripts/test.sh's second run)")
    if not _nginx():
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed; `make install-dev` installs it (scripts/ensure-nginx.sh)")
        _skip("nginx is not installed: bash scripts/ensure-nginx.sh")
    assert (ROOT / ".venv/bin/honcho").exists(), "honcho is missing: pip install -r requirements.txt"

    db = settings.DATABASES["default"]
    params = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432, "user": db["USER"] or None,
              "password": db["PASSWORD"] or None, "dbname": "postgres"}
    params = {k: v for k, v in params.items() if v is not None}
    name = f"helpdesk_e2e_{os.getpid()}"
    auth = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    database_url = f"postgres://{auth}@{params['host']}:{params['port']}/{name}"

    def drop():
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    redis_base = urlsplit(os.environ["REDIS_URL"])
    redis_urls = [f"redis://{redis_base.netloc}/{n}" for n in REDIS_DBS]
    for url in redis_urls:
        redis.Redis.from_url(url).flushdb()
    drop()
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    sandbox = SandboxAccount(request.getfixturevalue("sandbox_server"))
    sandbox.bulk_sessions(1, custom_data={"user_id": "cust-e2e-cobrowse"})
    running = Layout(tmp_path_factory.mktemp("layout"), sandbox, database_url, redis_urls)
    try:
        running.start()
        seeded = running.manage("shell", "--no-imports", "-v0", "-c", SEED, E2E_PASSWORD=PASSWORD, E2E_ORIGIN=WIDGET_ORIGIN)
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        running.seed = json.loads(seeded.stdout.strip().splitlines()[-1])
        yield running
    finally:
        running.stop()
        running.kill_leftovers()
        drop()
        for url in redis_urls:
            redis.Redis.from_url(url).flushdb()


# --- helpers --------------------------------------------------------------------------------

async def next_frame(ws, matches, timeout=20, what="a frame"):
    """The next frame for which matches(frame) is true; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise asyncio.TimeoutError
            frame = await asyncio.wait_for(ws.recv(), remaining)
        except asyncio.TimeoutError:
            raise AssertionError(f"waiting for {what}: nothing within {timeout} s; last frames: "
                                 f"{[f[:300] for f in seen[-3:]]}") from None
        except websockets.ConnectionClosed as exc:
            raise AssertionError(f"waiting for {what}: the socket closed ({exc})") from None
        seen.append(frame)
        if matches(frame):
            return frame


def widget_frame(kind, **fields):
    def matches(frame):
        data = json.loads(frame)
        return data.get("type") == kind and all(data.get(k) == v for k, v in fields.items())
    return matches


async def agent_socket(base, path, session, origin, **kwargs):
    return await websockets.connect(f"{base}{path}", origin=origin, open_timeout=10,
                                    additional_headers={"Cookie": f"sessionid={session.cookies['sessionid']}"}, **kwargs)


# --- the tests ------------------------------------------------------------------------------

def test_the_nginx_template_renders_for_plain_http_and_tls_and_refuses_unsafe_values(tmp_path):
    nginx = _nginx()
    if not nginx:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed; `make install-dev` installs it (scripts/ensure-nginx.sh)")
        _skip("nginx is not installed: bash scripts/ensure-nginx.sh")
    cert, key = _self_signed(tmp_path)
    (tmp_path / "static").mkdir()
    base = {"PATH": os.environ.get("PATH", ""), "PROD_VAR": str(tmp_path), "STATIC_ROOT": str(tmp_path / "static"),
            "PROD_PORT": "18443", "GUNICORN_PORT": "18090", "WS1_PORT": "18091", "WS2_PORT": "18092"}

    def render(**env):
        conf = tmp_path / "nginx" / "nginx.conf"
        done = subprocess.run([str(ROOT / ".venv/bin/python"), "scripts/prod_helpers.py", "nginx-conf",
                               "deploy/nginx.conf.template", str(conf)], cwd=ROOT, env={**base, **env},
                              capture_output=True, text=True)
        return done, conf

    for env in ({}, {"TLS_CERT": str(cert), "TLS_KEY": str(key), "PROD_HTTP_PORT": "18080"}):
        done, conf = render(**env)
        assert done.returncode == 0, done.stderr
        text = conf.read_text()
        assert "${" not in text and ("ssl_certificate " in text) == bool(env) and ("return 301" in text) == bool(env)
        checked = subprocess.run([nginx, "-t", "-q", "-e", "stderr", "-p", str(tmp_path / "nginx"), "-c", str(conf)],
                                 capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
    for env in ({"STATIC_ROOT": f"{tmp_path}/static; return 200"}, {"PROD_PORT": "8080 ssl"}, {"WS2_PORT": "18091"},
                {"TLS_CERT": str(cert)}):
        done, _ = render(**env)
        assert done.returncode == 1 and done.stderr.startswith("scripts/prod.sh:"), (env, done.stderr)


async def test_a_widget_on_one_daphne_and_an_agent_on_the_other_see_each_others_messages(layout):
    agent = layout.sign_in()
    ws2_origin = f"http://127.0.0.1:{layout.ports['WS2_PORT']}"
    queue = await agent_socket(layout.ws2, "/ws/chats/queue/", agent, ws2_origin)
    widget = await websockets.connect(f"{layout.ws1}/ws/chat/", origin=WIDGET_ORIGIN, open_timeout=10)
    try:
        await widget.send(json.dumps({"type": "hello", "site": "e2e-shop", "name": "Wanda Widget",
                                      **layout.seed["identity"]}))
        await next_frame(widget, widget_frame("welcome"), what="welcome")
        await widget.send(json.dumps({"type": "message", "client_id": "e2e-1", "body": "Hello from ws1"}))
        await next_frame(widget, widget_frame("ack", client_id="e2e-1"), what="ack")

        # Through the channel layer: the queue of the agent, held by the other daphne, shows the new chat.
        html = await next_frame(queue, lambda h: "Hello from ws1" in h, what="queue update on ws2")
        ticket_id = int(re.search(r'href="/tickets/(\d+)/"', html).group(1))
        page = await agent_socket(layout.ws2, f"/ws/tickets/{ticket_id}/", agent, ws2_origin)
        try:
            await widget.send(json.dumps({"type": "message", "client_id": "e2e-2", "body": "Second, for the agent"}))
            await next_frame(page, lambda h: 'hx-swap-oob="beforeend:#thread"' in h and "Second, for the agent" in h,
                             what="the customer's message on the agent's ticket page (ws2)")

            # The agent's reply, posted to gunicorn through nginx, reaches the widget on ws1.
            reply = layout.post(agent, f"/tickets/{ticket_id}/reply/", {"body": "Reply through gunicorn"})
            assert reply.status_code == 302, reply.text[:2000]
            frame = json.loads(await next_frame(widget, widget_frame("message", body="Reply through gunicorn"),
                                                what="the agent's reply on the widget (ws1)"))
            assert frame["from"] == "agent" and frame["author"] == "Erin Agent"
        finally:
            await page.close()
    finally:
        await widget.close()
        await queue.close()


async def test_a_ticket_closed_through_gunicorn_ends_its_session_and_the_open_page_shows_it(layout):
    agent = layout.sign_in()
    ticket_id, session_id = layout.seed["ticket"], layout.seed["session"]
    assert layout.sandbox.session_raw(session_id)["state"] == "active"
    # The agent's ticket page, its socket through nginx (TLS, upgrade) to one of the daphne processes.
    page = await agent_socket(f"wss://127.0.0.1:{layout.ports['PROD_PORT']}", f"/ws/tickets/{ticket_id}/", agent,
                              layout.url, ssl=layout.tls_context())
    try:
        await next_frame(page, lambda h: 'id="ticket-viewers"' in h and "Erin Agent" in h, what="viewers")
        # An open page mostly waits: longer than a Redis client's socket timeout (5 s by default).
        await asyncio.sleep(IDLE_SECONDS)
        closed = layout.post(agent, f"/tickets/{ticket_id}/status/", {"status": "closed"})
        assert closed.status_code == 302, closed.text[:2000]
        html = await next_frame(page, lambda h: 'id="cobrowse-links"' in h and 'data-state="ended"' in h,
                                what="the co-browse panel showing the session ended")
        assert re.search(r'class="badge session-ended">Ended<', html), html
    finally:
        await page.close()
    assert layout.sandbox.session_raw(session_id)["state"] == "ended"
    fragment = layout.get(f"/tickets/{ticket_id}/fragment/cobrowse/", agent)
    assert fragment.status_code == 200 and ">Ended<" in fragment.text


def test_the_proxy_serves_static_files_terminates_tls_and_keeps_metrics_local(layout):
    manifest = json.loads((layout.tmp / "static" / "staticfiles.json").read_text())["paths"]
    hashed = layout.get(f"/static/{manifest['css/helpdesk.css']}", headers={"Accept-Encoding": "gzip"})
    assert hashed.status_code == 200
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert hashed.headers["Content-Encoding"] == "gzip"  # collectstatic's .gz copy
    # Customer sites load the widget by its plain name: it must not be cached for a year.
    widget = layout.get("/static/widget.js")
    assert widget.status_code == 200 and widget.headers["Cache-Control"] == "public, max-age=60"

    login = layout.get("/login/")
    assert login.headers["Strict-Transport-Security"].startswith("max-age=31536000")  # Django saw https
    assert "X-Request-ID" in login.headers
    plain = requests.get(f"http://127.0.0.1:{layout.ports['PROD_HTTP_PORT']}/login/?next=/x", allow_redirects=False, timeout=10)
    assert plain.status_code == 301 and plain.headers["Location"] == f"{layout.url}/login/?next=/x"

    def metrics_from(source):
        conn = http.client.HTTPSConnection("127.0.0.1", layout.ports["PROD_PORT"], context=layout.tls_context(),
                                           source_address=(source, 0), timeout=10)
        try:
            conn.request("GET", "/metrics")
            response = conn.getresponse()
            return response.status, dict(response.getheaders())
        finally:
            conn.close()

    # 127.0.0.2 is not 127.0.0.1: to nginx it is another machine.
    status, headers = metrics_from("127.0.0.2")
    assert status == 403 and "X-Request-ID" not in headers  # refused by nginx, never reached the application
    status, headers = metrics_from("127.0.0.1")
    assert "X-Request-ID" in headers  # passed to the application


def test_readyz_names_a_stopped_worker_and_recovers_when_it_runs_again(layout):
    assert layout.get("/readyz").status_code == 200
    worker = layout.pid("worker_cobrowse")
    os.killpg(worker, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + HEARTBEAT_MAX_AGE + 30
        while True:
            response = layout.get("/readyz")
            if response.status_code == 503:
                break
            assert time.monotonic() < deadline, f"/readyz still {response.status_code}: {response.text}"
            time.sleep(0.5)
        queues = response.json()["checks"]["workers"]["queues"]
        assert not queues["cobrowse"]["ok"] and "cobrowse" in queues["cobrowse"]["reason"]
        assert queues["default"]["ok"]
    finally:
        os.killpg(worker, signal.SIGCONT)
    deadline = time.monotonic() + HEARTBEAT_MAX_AGE + 30
    while (response := layout.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, f"/readyz did not recover: {response.text}"
        time.sleep(0.5)


def test_sigterm_stops_every_process_of_the_layout(layout):
    assert layout.processes(), "no process of the layout found"
    returncode = layout.stop()
    assert returncode is not None, f"scripts/prod.sh did not stop on SIGTERM:\n{layout.log()}"
    deadline = time.monotonic() + 15
    while layout.processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert layout.processes() == [], f"still running: {layout.processes()}"
    assert not [name for name, port in layout.ports.items() if _listening(port)]
    log = layout.log(tail=None)
    for needle in (layout.secret_key, layout.field_key, "PRIVATE KEY-----"):
        assert needle not in log
    assert not JWT.search(log)

"""/metrics in the Prometheus text format: loopback or the METRICS_TOKEN bearer only; database facts
read at scrape time; request, socket and session-end figures that add up across processes."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from helpdesk import services as helpdesk
from helpdesk.asgi import application
from helpdesk.ops import metrics
from helpdesk.webhooks.models import Delivery
from helpdesk.webhooks.tasks import deliver
from integrations.cobrowse import services
from integrations.cobrowse.models import SessionLink
from integrations.cobrowse.tasks import end_session, tag_session
from tests import factories as f
from tests.chat import helpers as chat
from tests.webhooks.helpers import outgoing_endpoint

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-tests-0123456789"
OUTSIDE = "203.0.113.5"
FAMILIES = {
    "helpdesk_cobrowse_ends_pending": "gauge",
    "helpdesk_tasks_pending": "gauge",
    "helpdesk_webhook_deliveries": "counter",
    "helpdesk_cobrowse_end_seconds": "histogram",
    "helpdesk_websockets_open": "gauge",
    "helpdesk_http_requests": "counter",
    "helpdesk_http_request_duration_seconds": "histogram",
}


def parse(text):
    """{(sample name, sorted labels): value}"""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(client=None):
    response = (client or Client()).get("/metrics")
    assert response.status_code == 200, response.content[:300]
    return parse(response.content.decode())


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- the endpoint ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_loopback_scrape_lists_every_metric_and_sets_no_cookie(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPE_LATEST
    types = {family.name: family.type for family in text_string_to_metric_families(response.content.decode())}
    assert {name: types.get(name) for name in FAMILIES} == FAMILIES
    text = response.content.decode()
    assert 'helpdesk_webhook_deliveries_total{outcome="delivered"} 0.0' in text
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies and "Set-Cookie" not in response
    # Reading request.user or the session would have made the answer vary on the cookie.
    assert "Cookie" not in response.get("Vary", "")


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_loopback_addresses_need_no_token(address):
    assert Client(REMOTE_ADDR=address).get("/metrics").status_code == 200


@pytest.mark.django_db
def test_other_addresses_need_the_configured_bearer_token(settings):
    settings.METRICS_TOKEN = TOKEN
    outside = Client(REMOTE_ADDR=OUTSIDE)
    assert outside.get("/metrics").status_code == 403
    assert outside.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 403
    assert outside.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 403
    response = outside.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and b"helpdesk_tasks_pending" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("offered", ["", "Bearer ", "Bearer anything-at-all-0123456789"])
def test_without_a_configured_token_other_addresses_are_refused(settings, offered):
    settings.METRICS_TOKEN = ""
    headers = {"Authorization": offered} if offered else {}
    assert Client(REMOTE_ADDR=OUTSIDE).get("/metrics", headers=headers).status_code == 403


@pytest.mark.django_db
def test_metrics_is_not_redirected_to_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    assert Client().get("/metrics").status_code == 200
    assert Client().get("/login/").status_code == 301  # what the exemption spares /metrics


# --- database facts, read at scrape time ------------------------------------------------------------

@pytest.mark.django_db
def test_database_gauges_count_the_rows(client, support):
    now = timezone.now()
    for n, (requested, ended) in enumerate([(now, None), (now, None), (now, now), (None, None)]):
        SessionLink.objects.create(ticket=f.ticket(support), session_id=f"ses_metrics{n:08d}", state="active",
                                   end_requested_at=requested, ended_at=ended)
    DBTaskResult.objects.all().delete()
    before = scrape(client)
    assert value(before, "helpdesk_cobrowse_ends_pending") == 2
    assert value(before, "helpdesk_tasks_pending", queue="default") == 0
    assert value(before, "helpdesk_tasks_pending", queue="cobrowse") == 0

    end_session.enqueue(1)
    end_session.using(run_after=now + timedelta(minutes=5)).enqueue(2)  # a retry waiting its turn
    tag_session.enqueue(3)
    deliver.enqueue("a")
    done = deliver.enqueue("b")
    DBTaskResult.objects.filter(pk=done.id).update(status=TaskResultStatus.SUCCESSFUL)
    endpoint, _ = outgoing_endpoint("http://127.0.0.1:9/hooks")
    for state, count in ((Delivery.State.DELIVERED, 2), (Delivery.State.FAILED, 1), (Delivery.State.PENDING, 3)):
        for _ in range(count):
            Delivery.objects.create(endpoint=endpoint, event_type="ticket.closed", payload={}, state=state)

    after = scrape(client)
    assert value(after, "helpdesk_tasks_pending", queue="cobrowse") == 3
    assert value(after, "helpdesk_tasks_pending", queue="default") == 1
    assert value(after, "helpdesk_webhook_deliveries_total", outcome="delivered") == 2
    assert value(after, "helpdesk_webhook_deliveries_total", outcome="failed") == 1
    assert value(after, "helpdesk_webhook_deliveries_total", outcome="pending") == 3


# --- what the processes observe ---------------------------------------------------------------------

@pytest.mark.django_db
def test_requests_are_counted_by_route_name_and_status(client):
    before = scrape(client)
    client.get("/healthz")
    client.get("/healthz")
    client.post("/healthz")
    client.get("/no-such-page/")
    client.get("/no-such-page/other/")
    after = scrape(client)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("helpdesk_http_requests_total", method="GET", route="healthz", status="200") == 2
    assert grew("helpdesk_http_requests_total", method="POST", route="healthz", status="405") == 1
    # Unknown paths share one label value, never their own.
    assert grew("helpdesk_http_requests_total", method="GET", route="unmatched", status="404") == 2
    assert grew("helpdesk_http_request_duration_seconds_count", method="GET", route="healthz") == 2
    assert not any("no-such-page" in str(labels) for _, labels in after)


@pytest.mark.sandbox
@pytest.mark.django_db(transaction=True)
def test_a_completed_session_end_is_observed_in_the_histogram(cobrowse_on_sandbox, client):
    sb = cobrowse_on_sandbox
    team = f.team()
    agent = f.agent(team)
    sb.bulk_sessions(1, custom_data={"user_id": "cust-m"})
    session_id = next(iter(services.admin_client().iter_sessions(state=["active"], agent="all")))["id"]
    ticket = f.ticket(team, f.customer(user_id="cust-m"))
    link = SessionLink.objects.create(ticket=ticket, session_id=session_id, agent=agent, state="active")
    before = scrape(client)
    helpdesk.close_ticket(ticket, agent)
    assert value(scrape(client), "helpdesk_cobrowse_ends_pending") == 1

    assert services.try_end(link.pk) is None  # what the end task runs
    link.refresh_from_db()
    after = scrape(client)
    assert link.ended_at is not None and sb.session_raw(session_id)["state"] == "ended"
    assert value(after, "helpdesk_cobrowse_end_seconds_count") == value(before, "helpdesk_cobrowse_end_seconds_count") + 1
    took = (link.ended_at - link.end_requested_at).total_seconds()
    assert value(after, "helpdesk_cobrowse_end_seconds_sum") - value(before, "helpdesk_cobrowse_end_seconds_sum") == \
        pytest.approx(took)
    assert value(after, "helpdesk_cobrowse_ends_pending") == 0
    assert services.try_end(link.pk) is None  # nothing left to end: not observed again
    assert value(scrape(client), "helpdesk_cobrowse_end_seconds_count") == value(after, "helpdesk_cobrowse_end_seconds_count")


def sockets_open(kind):
    return REGISTRY.get_sample_value("helpdesk_websockets_open", {"kind": kind})


@pytest.mark.django_db(transaction=True)
async def test_agent_sockets_are_counted_while_open(support, alice):
    ticket = await sync_to_async(f.ticket)(support)
    client = Client()
    await sync_to_async(client.force_login)(alice.user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    before = sockets_open("agent")
    ws = WebsocketCommunicator(application, f"/ws/tickets/{ticket.pk}/",
                               headers=[(b"cookie", cookie), (b"origin", b"http://localhost")])
    connected, _ = await ws.connect()
    assert connected and sockets_open("agent") == before + 1
    await ws.disconnect()
    assert sockets_open("agent") == before

    refused = WebsocketCommunicator(application, f"/ws/tickets/{ticket.pk}/", headers=[(b"origin", b"http://localhost")])
    connected, _ = await refused.connect()  # signed out: closed before it is accepted
    assert not connected and sockets_open("agent") == before
    await refused.disconnect()
    assert sockets_open("agent") == before


@pytest.mark.django_db(transaction=True)
async def test_widget_sockets_are_counted_while_open(support):
    site = await sync_to_async(chat.site)(support)
    before = sockets_open("widget")
    first, _, _ = await chat.open_widget(site, "cust-w1")
    second = chat.widget()
    assert (await second.connect())[0]
    assert sockets_open("widget") == before + 2
    await first.disconnect()
    assert sockets_open("widget") == before + 1
    await second.disconnect()
    assert sockets_open("widget") == before


# --- several processes --------------------------------------------------------------------------------

SERVE = """
import os, sys
import django
django.setup()
from django.test import Client
from helpdesk.ops import metrics
client = Client(HTTP_HOST="127.0.0.1")
for _ in range(int(sys.argv[1])):
    assert client.get("/no-such-page/").status_code == 404
metrics.WEBSOCKETS_OPEN.labels("agent").inc()  # a socket still open when this process ends
print(os.getpid())
"""

SCRAPE = """
import sys
import django
django.setup()
from django.test import Client
response = Client(HTTP_HOST="127.0.0.1").get("/metrics")
assert response.status_code == 200, response.status_code
sys.stdout.write(response.content.decode())
"""


def run(script, directory, *args):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PROMETHEUS_MULTIPROC_DIR": str(directory),
           "HELPDESK_VAR_DIR": str(directory.parent), "LOG_LEVEL": "ERROR"}
    for name in ("DATABASE_URL", "REDIS_URL", "REDIS_CACHE_URL"):  # these processes read no rows
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", script, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_with_a_shared_directory_a_scrape_sums_every_process(tmp_path, monkeypatch):
    directory = tmp_path / "metrics"
    directory.mkdir()
    pids = [int(run(SERVE, directory, "3").split()[-1]), int(run(SERVE, directory, "2").split()[-1])]
    samples = parse(run(SCRAPE, directory))
    assert value(samples, "helpdesk_http_requests_total", method="GET", route="unmatched", status="404") == 5
    assert value(samples, "helpdesk_websockets_open", kind="agent") == 2

    # Gunicorn's child_exit hook: a dead worker's sockets stop counting, its requests do not.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    for pid in pids:
        metrics.child_exit(None, SimpleNamespace(pid=pid))
    samples = parse(run(SCRAPE, directory))
    assert value(samples, "helpdesk_websockets_open", kind="agent") == 0
    assert value(samples, "helpdesk_http_requests_total", method="GET", route="unmatched", status="404") == 5

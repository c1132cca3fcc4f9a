"""Failure paths log one line with their ids (ticket, session, link, delivery, endpoint, task)."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django_tasks_db.models import DBTaskResult

from helpdesk.webhooks import outgoing
from helpdesk.webhooks.models import Delivery
from integrations.cobrowse import services
from integrations.cobrowse.models import SessionLink
from tests import factories as f
from tests.chat.helpers import ORIGIN, hello, receive, widget
from tests.chat.helpers import site as chat_site
from tests.chat.servers import free_port
from tests.chat.servers import test_database_url as shared_database_url
from tests.webhooks.helpers import call, incoming_endpoint, outgoing_endpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_tagging_that_cannot_succeed_logs_its_give_up_with_the_ids(settings, caplog):
    settings.COBROWSE_DENY_UNRESTRICTED_TEAMS = True
    team = f.team("Billing")
    agent = f.agent(team)
    ticket = f.ticket(team)
    link = SessionLink.objects.create(ticket=ticket, session_id="ses_giveup123", agent=agent, state="active")
    with caplog.at_level(logging.WARNING, logger="integrations.cobrowse.services"):
        assert services.tag(link.pk) is None
    assert (f"Tagging co-browse session ses_giveup123 (link {link.pk}, ticket {ticket.pk}) not possible, giving up"
            in caplog.text)


@pytest.mark.django_db
def test_a_refused_incoming_webhook_logs_the_status_and_the_reason(client, caplog):
    endpoint, secret = incoming_endpoint(team=f.team("Support"))
    with caplog.at_level(logging.WARNING, logger="helpdesk.webhooks.views"):
        response = call(client, endpoint, "not-the-secret", {"ticket_id": 1})
    assert response.status_code == 401
    line = next(r for r in caplog.records if r.name == "helpdesk.webhooks.views")
    assert f"slug='{endpoint.slug}' status=401" in line.getMessage()
    assert secret not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_failing_task_is_logged_with_its_id_by_a_quiet_worker(tmp_path):
    delivery_pk = 10**9  # no such delivery: the task finds nothing to do; a missing argument makes it raise
    from helpdesk.webhooks.tasks import deliver
    result = deliver.enqueue(delivery_pk)
    DBTaskResult.objects.filter(pk=result.id).update(args_kwargs={"args": [], "kwargs": {"unexpected": 1}})
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", "DATABASE_URL": shared_database_url(),
           "HELPDESK_VAR_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "manage.py", "task_worker", "--queue-name", "default", "--batch",
                           "--no-startup-delay", "--no-reload", "-v0"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert DBTaskResult.objects.get(pk=result.id).status == "FAILED"
    assert f"Task id={result.id} path=helpdesk.webhooks.tasks.deliver state=FAILED" in done.stderr
    assert "Traceback" in done.stderr
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_an_outgoing_delivery_logs_each_failed_attempt_and_its_give_up(settings, caplog):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1"]
    settings.WEBHOOK_RETRY_DELAYS = [7]
    endpoint, secret = outgoing_endpoint(f"http://127.0.0.1:{free_port()}/hook")  # nothing listens there
    delivery = Delivery.objects.create(endpoint=endpoint, event_type="ticket.closed", payload={"id": "evt_1"})
    with caplog.at_level(logging.WARNING, logger="helpdesk.webhooks.outgoing"):
        assert outgoing.attempt(delivery.pk) == 7
        assert outgoing.attempt(delivery.pk) is None
    lines = [r.getMessage() for r in caplog.records if r.name == "helpdesk.webhooks.outgoing"]
    assert lines[0].startswith(f"Webhook delivery {delivery.pk} (endpoint {endpoint.pk}, ticket.closed) attempt 1 "
                               "failed, next in 7 s: Could not reach the receiver")
    assert lines[1].startswith(f"Webhook delivery {delivery.pk} (endpoint {endpoint.pk}, ticket.closed) failed for "
                               "good after 2 attempts")
    assert secret not in caplog.text


@pytest.mark.django_db(transaction=True)
async def test_a_refused_chat_identity_is_logged_with_the_origin_and_the_code(caplog):
    shop = await sync_to_async(chat_site)(await sync_to_async(f.team)("Support"))
    ws = widget()
    await ws.connect()
    with caplog.at_level(logging.WARNING, logger="helpdesk.chat.consumers"):
        await ws.send_json_to(await sync_to_async(hello)(shop, "cust-1", signature="0" * 64))
        assert (await receive(ws, "error"))["code"] == "forged"
    await ws.disconnect()
    assert f"chat hello refused origin='{ORIGIN}' code=forged" in caplog.text

"""Co-browse ends have a queue and a worker of their own: a webhook receiver that never answers
does not delay the end of a session when its ticket closes."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpdesk import services as helpdesk
from helpdesk.webhooks.models import Delivery
from helpdesk.webhooks.tasks import deliver
from integrations.cobrowse import services
from integrations.cobrowse.models import SessionLink
from integrations.cobrowse.tasks import COBROWSE_QUEUE, end_session, tag_session
from tests import factories as f
from tests.chat.servers import test_database_url as shared_database_url
from tests.webhooks.helpers import outgoing_endpoint

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def test_cobrowse_tasks_run_on_their_own_queue():
    assert end_session.queue_name == tag_session.queue_name == COBROWSE_QUEUE
    assert deliver.queue_name == "default"


def start_worker(sb, settings, queue, log):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", "DATABASE_URL": shared_database_url(),
           "COBROWSE_API": sb.url, "COBROWSE_LICENSE_KEY": sb.license_key,
           "COBROWSE_PRIVATE_KEY_FILE": str(settings.COBROWSE_PRIVATE_KEY_FILE), "WEBHOOK_TIMEOUT": "30"}
    env.pop("REDIS_URL", None)
    return subprocess.Popen([sys.executable, "manage.py", "task_worker", "--queue-name", queue, "--interval", "0.05",
                             "--no-startup-delay", "--no-reload"], cwd=ROOT, env=env,
                            stdout=log.open("a"), stderr=subprocess.STDOUT)


@pytest.fixture
def hanging_receiver():
    """Accepts connections (the kernel completes them) and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hooks/helpdesk"
    server.close()


def test_a_hanging_webhook_receiver_does_not_delay_the_end_of_a_session(
        cobrowse_on_sandbox, settings, hanging_receiver, tmp_path):
    sb = cobrowse_on_sandbox
    team = f.team()
    agent = f.agent(team)
    customer = f.customer(user_id="cust-q")
    outgoing_endpoint(hanging_receiver, events=("ticket.closed",))
    sb.bulk_sessions(1, custom_data={"user_id": "cust-q"})
    session_id = next(iter(services.admin_client().iter_sessions(state=["active"], agent="all")))["id"]
    ticket = f.ticket(team, customer)
    link = SessionLink.objects.create(ticket=ticket, session_id=session_id, agent=agent, state="active")
    log = tmp_path / "workers.log"
    workers = [start_worker(sb, settings, "default", log), start_worker(sb, settings, COBROWSE_QUEUE, log)]
    try:
        helpdesk.close_ticket(ticket, agent)
        delivery = Delivery.objects.get()
        deadline = time.monotonic() + 8
        while SessionLink.objects.get(pk=link.pk).ended_at is None:
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.05)
        assert sb.session_raw(session_id)["state"] == "ended"
        # The delivery is still waiting on the receiver, which has not answered.
        delivery.refresh_from_db()
        assert delivery.state == Delivery.State.PENDING
    finally:
        for worker in workers:
            worker.kill()  # the default worker is still waiting on the receiver
            worker.wait(10)

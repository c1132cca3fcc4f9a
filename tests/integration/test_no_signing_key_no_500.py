"""No usable signing key (missing key file, or a generated key that no FIELD_ENCRYPTION_KEYS key
opens): the REST client turns it into NotConfigured before anything is sent, so the supervisor pages,
the settings checks and the background tasks show or log the reason, and never answer a 500 or fail
a task."""

import logging

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils.html import escape
from django_tasks_db.models import DBTaskResult

from helpdesk.models import Agent, Event
from integrations.cobrowse import account, services, tasks
from integrations.cobrowse.client import CobrowseClient, NotConfigured, Unavailable
from integrations.cobrowse.models import SessionLink
from tests import factories as f

pytestmark = pytest.mark.django_db

SESSION_ID = "0123456789abcdef0123"


@pytest.fixture(params=["undecryptable", "missing"])
def no_signing_key(request, settings, tmp_path, keys_changed):
    """The sentence every path must show: the reason, naming the key or file, never its content."""
    cache.clear()  # no supervisor snapshot from before
    if request.param == "undecryptable":
        key = account.activate(account.generate_key(None), None)
        keys_changed()
        return f"Signing key {key.key_id} cannot be decrypted (encryption keys changed?)"
    settings.COBROWSE_PRIVATE_KEY_FILE = tmp_path / "gone.pem"
    return "Cannot read the Cobrowse private key file 'gone.pem'"


@pytest.fixture
def as_sam(client, support):
    client.force_login(f.agent(support, role=Agent.Role.SUPERVISOR, name="Sam Supervisor").user)
    return client


def test_the_client_raises_not_configured_before_sending_anything():
    def no_token(refresh=False):
        raise ImproperlyConfigured("Signing key abc cannot be decrypted (encryption keys changed?).")

    client = CobrowseClient(no_token, api="http://127.0.0.1:9")
    with pytest.raises(NotConfigured) as raised:
        client.me()
    assert isinstance(raised.value, Unavailable)  # callers retry it like an outage
    assert raised.value.message == "Signing key abc cannot be decrypted (encryption keys changed?)."
    assert raised.value.status is None and client.calls == 0


def test_the_supervisor_sessions_page_shows_the_reason(as_sam, no_signing_key, caplog):
    with caplog.at_level(logging.WARNING):
        full = as_sam.get("/supervisor/sessions/")
        fragment = as_sam.get("/supervisor/sessions/?refresh=1", HTTP_HX_REQUEST="true")
    for response in (full, fragment):
        assert response.status_code == 200
        assert response.context["snapshot"].error.startswith(no_signing_key)
        assert escape("Cannot count the sessions right now: " + no_signing_key) in response.content.decode()
    assert "Counting active co-browse sessions failed: " + no_signing_key in caplog.text


def test_watching_a_session_answers_503_with_the_reason_and_records_nothing(as_sam, no_signing_key):
    response = as_sam.get(f"/supervisor/sessions/watch/{SESSION_ID}/")
    assert response.status_code == 503
    assert escape("Co-browse is not available: " + no_signing_key) in response.content.decode()
    assert not Event.objects.filter(verb="cobrowse_watch_started").exists()


def test_check_the_connection_says_why(as_ada, no_signing_key):
    response = as_ada.post("/settings/cobrowse/", {"action": "check"}, follow=True)
    assert response.status_code == 200
    assert escape("Cobrowse did not accept the helpdesk: " + no_signing_key) in response.content.decode()


def test_the_policy_preview_says_why(as_ada, support, no_signing_key):
    response = as_ada.post(f"/settings/policies/{support.pk}/", {"action": "preview", "enabled": "on",
                                                                  "policy": '{"version": 3, "devices": {}}'},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.context["preview"]["error"].startswith(no_signing_key)
    assert escape(no_signing_key) in response.content.decode()


def live_link(support, agent=None):
    return SessionLink.objects.create(ticket=f.ticket(support), session_id=SESSION_ID, agent=agent,
                                      state=SessionLink.State.ACTIVE)


def queued(task_fn):
    return DBTaskResult.objects.filter(task_path=task_fn.module_path, status="READY")


def run_worker():
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_ending_a_session_is_retried_with_a_backoff_and_the_reason_logged(support, no_signing_key, caplog):
    link = live_link(support)
    tasks.end_session.enqueue(link.pk)
    with caplog.at_level(logging.WARNING):
        run_worker()
    assert not DBTaskResult.objects.filter(status="FAILED").exists()  # the worker ran it to the end
    retry = queued(tasks.end_session).get()
    assert retry.args_kwargs["args"] == [link.pk] and retry.run_after is not None
    link.refresh_from_db()
    assert link.ended_at is None and link.end_attempts == 1 and link.last_error.startswith(no_signing_key)
    failed = Event.objects.get(verb="cobrowse_end_failed", ticket=link.ticket)
    assert failed.data["session_id"] == SESSION_ID and failed.data["error"].startswith(no_signing_key)
    assert f"Ending co-browse session {SESSION_ID} (link {link.pk}, ticket {link.ticket_id}) failed, attempt 1: " \
           + no_signing_key in caplog.text


@pytest.mark.django_db(transaction=True)
def test_tagging_a_session_is_retried_later_and_the_reason_logged(support, alice, no_signing_key, caplog):
    link = live_link(support, agent=alice)
    with caplog.at_level(logging.WARNING):
        assert services.tag(link.pk) == services.TAG_RETRY_NOT_CONFIGURED
    tasks.tag_session.enqueue(link.pk)
    run_worker()
    assert not DBTaskResult.objects.filter(status="FAILED").exists()
    assert queued(tasks.tag_session).count() == 1  # the next attempt, later
    link.refresh_from_db()
    assert link.tagged_at is None and link.last_error.startswith(no_signing_key)
    assert not Event.objects.filter(verb="cobrowse_tag_failed").exists()  # not given up
    assert f"Tagging co-browse session {SESSION_ID} (link {link.pk}, ticket {link.ticket_id}) failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_reconcile_task_logs_the_reason_instead_of_failing(support, no_signing_key, caplog):
    live_link(support)
    tasks.reconcile.enqueue()
    with caplog.at_level(logging.WARNING):
        run_worker()
    result = DBTaskResult.objects.get(task_path=tasks.reconcile.module_path)
    assert result.status == "SUCCESSFUL"
    assert result.return_value["error"].startswith(no_signing_key)
    assert "Co-browse reconcile stopped, Cobrowse cannot be used: " + no_signing_key in caplog.text


def test_the_reconcile_command_says_why(support, no_signing_key, capsys):
    live_link(support)
    call_command("cobrowse_reconcile")
    assert "reconcile: Cobrowse unavailable, will retry: " + no_signing_key in capsys.readouterr().err

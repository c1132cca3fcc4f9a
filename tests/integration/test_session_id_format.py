"""A session id is letters, digits, "_" and "-" and nothing after them: "$" in a pattern also
matches before a final newline, so "abc\\n" once passed as an id into URLs, tokens and logs."""

import pytest
from django.test import Client

from helpdesk.models import Agent
from integrations.cobrowse.client import SESSION_ID_RE, NotFound
from integrations.cobrowse.services import admin_client
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", ["abc\n", "abc\r\n", "\nabc", "", "a" * 129, "abc def", "abc/x"])
def test_only_a_whole_id_is_a_session_id(text):
    assert SESSION_ID_RE.match(text) is None


def test_a_session_id_with_a_newline_is_never_asked_for():
    with pytest.raises(NotFound):
        admin_client().get_session("abc\n")


@pytest.mark.parametrize("method, path", [
    ("get", "/supervisor/sessions/watch/abc%0A/"),
    ("post", "/supervisor/sessions/watch/abc%0A/"),
    ("post", "/supervisor/sessions/watch/abc%0A/leave/"),
])
def test_the_supervisor_pages_refuse_an_id_with_a_newline(method, path):
    supervisor = f.agent(None, role=Agent.Role.SUPERVISOR)
    client = Client(raise_request_exception=False)
    client.force_login(supervisor.user)
    assert getattr(client, method)(path).status_code == 404

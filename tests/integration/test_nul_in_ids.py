"""A NUL character (%00) in an id taken from the path or a form is an unknown id, not a 500:
PostgreSQL refuses NUL in a query's text, SQLite does not, so this runs on both."""

import pytest
from django.test import Client

from helpdesk.models import Agent
from helpdesk.webhooks.models import IncomingEndpoint
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_an_incoming_webhook_address_with_a_nul_is_unknown():
    endpoint = IncomingEndpoint.objects.create(name="Contact centre")
    client = Client(raise_request_exception=False)
    response = client.post(f"/hooks/in/{endpoint.slug}%00/", b"{}", content_type="application/json")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error": "No enabled webhook endpoint at this address."}


@pytest.mark.parametrize("action", ["activate", "discard"])
def test_a_signing_key_id_with_a_nul_is_unknown(action):
    admin = f.agent(None, role=Agent.Role.ADMIN)
    client = Client(raise_request_exception=False)
    client.force_login(admin.user)
    response = client.post("/settings/cobrowse/", {"action": action, "key_id": "k\x001"})
    assert response.status_code == 404

"""The incoming webhook URL an admin copies to a sender is the configured public address, never
one built from the request's Host (a proxy's internal name, or any host the admin was sent to)."""

import pytest

from helpdesk.models import Agent
from helpdesk.webhooks.models import IncomingEndpoint
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_the_incoming_url_shown_is_built_from_helpdesk_public_url(client, settings):
    settings.HELPDESK_PUBLIC_URL = "https://help.example.com"
    settings.ALLOWED_HOSTS = ["help.example.com", "internal.example.net"]
    admin = f.agent(None, role=Agent.Role.ADMIN)
    client.force_login(admin.user)
    endpoint = IncomingEndpoint.objects.create(name="Contact centre")
    page = client.get("/settings/webhooks/", HTTP_HOST="internal.example.net").content.decode()
    assert f"https://help.example.com/hooks/in/{endpoint.slug}/" in page
    assert "internal.example.net" not in page

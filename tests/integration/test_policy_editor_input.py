"""The JWT policy editor (and the Django admin's JSON field) refuse JSON that cannot be stored
(deep nesting, NaN, numbers out of range) with the reason on the page; nothing is saved."""

import pytest

from helpdesk.models import Agent, Event
from helpdesk.webhooks.models import OutgoingEndpoint
from integrations.cobrowse.models import JwtPolicy
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text, reason", [
    ('{"version": 3, "sessions": ' + '{"custom_data": ' * 30 + "{}" + "}" * 31, "nested more than 20 levels"),
    ("[" * 4000 + "]" * 4000, "nested more than 20 levels"),  # a RecursionError (500) before
    ('{"version": 3, "devices": {"custom_data": {"tier": NaN}}}', "NaN is not allowed"),
    ('{"version": 3, "devices": {"custom_data": {"tier": Infinity}}}', "Infinity is not allowed"),
    ('{"version": 3, "devices": {"custom_data": {"tier": 1e999}}}', "too large"),
    ('{"version": 3, "devices": {"custom_data": {"tier": ' + "9" * 5000 + "}}}", "too large"),
])
def test_a_policy_that_json_cannot_hold_is_refused_on_the_page_and_nothing_is_saved(client, text, reason):
    team = f.team()
    client.force_login(f.agent(None, role=Agent.Role.ADMIN).user)
    response = client.post(f"/settings/policies/{team.pk}/", {"policy": text, "enabled": "on", "action": "save"})
    assert response.status_code == 422
    assert reason in response.content.decode()
    assert not JwtPolicy.objects.exists()
    assert not Event.objects.filter(verb="policy_changed").exists()


@pytest.mark.parametrize("value, reason", [
    ("[" * 10_000 + "]" * 10_000, "nested more than 20 levels"),
    ('{"version": 3, "devices": {"custom_data": {"tier": NaN}}}', "NaN is not allowed"),
    ('{"version": 3, "x": 1e999}', "too large"),
])
def test_the_django_admin_json_field_refuses_what_json_cannot_hold(admin_client, value, reason):
    response = admin_client.post("/admin/webhooks/outgoingendpoint/add/", {
        "name": "CRM", "url": "https://crm.example.com/hook", "events": value, "enabled": "on"})
    assert response.status_code == 200 and reason in response.content.decode()
    assert not OutgoingEndpoint.objects.exists()

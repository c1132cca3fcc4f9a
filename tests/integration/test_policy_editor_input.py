"""The JWT policy editor refuses JSON that is not a policy (deep nesting, NaN, numbers out of range)
with a 422 and the reason on the page; nothing is saved and no event is written."""

import pytest

from helpdesk.models import Agent, Event
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

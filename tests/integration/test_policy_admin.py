"""The Django admin shows JWT policies but changes them only through the settings page's door:
no add or edit there (nothing unvalidated, nothing unrecorded), and a delete is recorded like Remove."""

import pytest

from helpdesk.models import Event
from integrations.cobrowse import policies
from integrations.cobrowse.models import JwtPolicy
from tests import factories as f

pytestmark = pytest.mark.django_db

POLICY = {"version": 3, "devices": {"custom_data": {"region": "eu"}}}


def test_the_admin_cannot_add_a_policy(admin_client):
    team = f.team()
    response = admin_client.post("/admin/cobrowse/jwtpolicy/add/", {"team": team.pk, "policy": '{"users": 1}', "enabled": "on"})
    assert response.status_code == 403
    assert not JwtPolicy.objects.exists()
    assert not Event.objects.exists()


def test_the_admin_shows_a_policy_read_only_and_points_to_the_settings_page(admin_client):
    team = f.team()
    policy = policies.save(team, None, policy=POLICY, enabled=True)
    url = f"/admin/cobrowse/jwtpolicy/{policy.pk}/change/"
    response = admin_client.post(url, {"team": team.pk, "policy": '{"version": 3, "users": {}}', "enabled": ""})
    assert response.status_code == 403
    policy.refresh_from_db()
    assert policy.policy == POLICY and policy.enabled
    assert Event.objects.filter(verb="policy_changed").count() == 1
    page = admin_client.get(url).content.decode()
    assert f'href="/settings/policies/{team.pk}/"' in page
    assert 'name="policy"' not in page  # no editable field
    assert f'href="/settings/policies/{team.pk}/"' in admin_client.get("/admin/cobrowse/jwtpolicy/").content.decode()


def test_deleting_a_policy_in_the_admin_is_recorded_like_the_settings_pages_remove(admin_client):
    team = f.team()
    policy = policies.save(team, None, policy=POLICY, enabled=False)
    response = admin_client.post(f"/admin/cobrowse/jwtpolicy/{policy.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not JwtPolicy.objects.exists()
    removed = Event.objects.get(verb="policy_removed")
    assert removed.data["team_id"] == team.pk
    assert removed.data["before"] == {"policy": POLICY, "enabled": False}


def test_deleting_policies_with_the_admin_action_records_each(admin_client):
    teams = [f.team(), f.team()]
    ids = [policies.save(team, None, policy=POLICY, enabled=True).pk for team in teams]
    response = admin_client.post("/admin/cobrowse/jwtpolicy/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert response.status_code == 302
    assert not JwtPolicy.objects.exists()
    assert sorted(e.data["team_id"] for e in Event.objects.filter(verb="policy_removed")) == sorted(t.pk for t in teams)

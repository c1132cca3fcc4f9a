"""Sign-in throttling (django-axes) through the real sign-in form."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.http import HttpRequest
from django.utils import timezone

from tests import factories as f

pytestmark = pytest.mark.django_db

LIMIT = 5


def sign_in(client, username, password, address="203.0.113.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client):
    return "_auth_user_id" in client.session


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Dozens of sign-ins per test: a slow hasher would make this module take a minute.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def agent_user():
    return f.agent(f.team()).user


def test_the_right_password_signs_in(client, agent_user):
    response = sign_in(client, agent_user.username, f.PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_five_failures_for_a_user_lock_that_user_out_even_with_the_right_password(client, agent_user, settings):
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    for n in range(LIMIT):  # from different addresses: only the username's count reaches the limit
        response = sign_in(client, agent_user.username, "wrong password", address=f"198.51.100.{n + 1}")
        assert response.status_code == (200 if n < LIMIT - 1 else 429)
    response = sign_in(client, agent_user.username, f.PASSWORD, address="198.51.100.99")
    assert response.status_code == 429
    assert not signed_in(client)
    page = response.content.decode()
    assert "Sign-in paused" in page
    assert "Try again in 15 minutes." in page


def test_the_locked_out_page_names_the_configured_cool_off(client, agent_user, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    for _ in range(LIMIT):
        sign_in(client, agent_user.username, "wrong password")
    response = sign_in(client, agent_user.username, f.PASSWORD)
    assert response.status_code == 429
    assert "Try again in 1 minute." in response.content.decode()


def test_the_lockout_ends_after_the_cool_off(client, agent_user):
    for _ in range(LIMIT):
        sign_in(client, agent_user.username, "wrong password")
    assert sign_in(client, agent_user.username, f.PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert sign_in(client, agent_user.username, f.PASSWORD).status_code == 302
    assert signed_in(client)


def test_other_users_can_still_sign_in_while_one_is_locked_out(client, agent_user):
    other = f.agent(f.team()).user
    for n in range(LIMIT):
        sign_in(client, agent_user.username, "wrong password", address=f"198.51.100.{n + 1}")
    response = sign_in(client, other.username, f.PASSWORD, address="198.51.100.50")
    assert response.status_code == 302


def test_failures_from_one_address_across_usernames_lock_the_address(client, agent_user):
    for n in range(LIMIT):
        sign_in(client, f"guess-{n}", "wrong password", address="192.0.2.7")
    response = sign_in(client, agent_user.username, f.PASSWORD, address="192.0.2.7")
    assert response.status_code == 429
    assert not signed_in(client)
    # The same user from another address is not affected.
    response = sign_in(client, agent_user.username, f.PASSWORD, address="192.0.2.8")
    assert response.status_code == 302
    assert signed_in(client)


def test_a_success_before_the_limit_resets_the_count(client, agent_user):
    for _ in range(LIMIT - 1):
        assert sign_in(client, agent_user.username, "wrong password").status_code == 200
    assert sign_in(client, agent_user.username, f.PASSWORD).status_code == 302
    client.logout()
    for _ in range(LIMIT - 1):
        assert sign_in(client, agent_user.username, "wrong password").status_code == 200
    response = sign_in(client, agent_user.username, f.PASSWORD)
    assert response.status_code == 302  # 8 failures in all, but never 5 in a row
    assert signed_in(client)


def test_the_admin_sign_in_is_throttled_too(client):
    admin = f.agent(role="admin").user
    admin.is_staff = admin.is_superuser = True
    admin.save()
    for _ in range(LIMIT):
        client.post("/admin/login/", {"username": admin.username, "password": "wrong"}, REMOTE_ADDR="192.0.2.20")
    response = client.post("/admin/login/", {"username": admin.username, "password": f.PASSWORD},
                           REMOTE_ADDR="192.0.2.21")
    assert response.status_code == 429
    assert not signed_in(client)


def test_the_test_client_login_works_when_given_a_request(client, agent_user):
    # django-axes counts per request, so authenticate() needs one; tests mostly use force_login.
    assert client.login(request=HttpRequest(), username=agent_user.username, password=f.PASSWORD)
    assert client.get("/tickets/").status_code == 200

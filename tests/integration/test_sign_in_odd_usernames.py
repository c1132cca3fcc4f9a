"""A username longer than any account's still counts towards the throttle and is never a 500:
django-axes' tables hold 255 characters (PostgreSQL refuses more; SQLite stores it, so the
stored length is what this checks on both)."""

import pytest
from axes.models import AccessAttempt
from django.test import Client

from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_a_very_long_username_is_a_refused_sign_in_not_a_500(path):
    client = Client(raise_request_exception=False)
    response = client.post(path, {"username": "a" * 1000, "password": "wrong"}, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get().username == "a" * 255


def test_long_usernames_still_lock_the_address_and_the_cut_name(settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        Client().post("/login/", {"username": "b" * 300 + str(n), "password": "wrong"}, REMOTE_ADDR="203.0.113.10")
    user = f.agent(f.team()).user
    response = Client().post("/login/", {"username": user.username, "password": f.PASSWORD}, REMOTE_ADDR="203.0.113.10")
    assert response.status_code == 429


def test_a_normal_username_is_counted_as_it_is(settings):
    user = f.agent(f.team()).user
    Client().post("/login/", {"username": user.username, "password": "wrong"}, REMOTE_ADDR="203.0.113.11")
    assert AccessAttempt.objects.get().username == user.username


def _sign_in(client, username, password, address):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_signing_in_to_ones_own_account_does_not_reset_the_count_against_another(client, settings):
    victim, attacker = f.agent(f.team()).user, f.agent(f.team()).user
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, victim.username, "guess", "198.51.100.7").status_code == 200
    assert _sign_in(client, attacker.username, f.PASSWORD, "198.51.100.7").status_code == 302
    client.post("/logout/")
    # The fifth guess against the victim reaches the limit: the victim and the address are paused.
    assert _sign_in(client, victim.username, "guess", "198.51.100.7").status_code == 429
    assert _sign_in(client, victim.username, f.PASSWORD, "198.51.100.8").status_code == 429


def test_a_success_still_resets_ones_own_count(client, settings):
    user = f.agent(f.team()).user
    for _ in range(2):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert _sign_in(client, user.username, "wrong", "198.51.100.9").status_code == 200
        assert _sign_in(client, user.username, f.PASSWORD, "198.51.100.9").status_code == 302
        client.post("/logout/")

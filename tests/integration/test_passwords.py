"""Django's full password validation applies where passwords are set: the admin's user creation
and password change refuse weak passwords and store nothing."""

import pytest
from django.contrib.auth import get_user_model

from helpdesk.models import Agent
from tests import factories as f

pytestmark = pytest.mark.django_db

STRONG = "correct horse battery staple"
WEAK = {
    "demo1234": "This password is too short. It must contain at least 10 characters.",  # the demo password
    "Xq7#pL": "This password is too short.",
    "58302917465": "This password is entirely numeric.",
    "password1234": "This password is too common.",
}


@pytest.fixture
def as_admin(client):
    admin = f.agent(role=Agent.Role.ADMIN).user
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    return client


def add_user(client, username, password):
    return client.post("/admin/auth/user/add/", {
        "username": username, "usable_password": "true", "password1": password, "password2": password,
    })


@pytest.mark.parametrize("password", sorted(WEAK))
def test_the_admin_refuses_to_create_a_user_with_a_weak_password(as_admin, password):
    response = add_user(as_admin, "newagent", password)
    assert response.status_code == 200  # the form again, with the error
    assert WEAK[password] in response.content.decode()
    assert not get_user_model().objects.filter(username="newagent").exists()


def test_the_admin_creates_a_user_with_a_strong_password(as_admin):
    response = add_user(as_admin, "newagent", STRONG)
    assert response.status_code == 302
    assert get_user_model().objects.get(username="newagent").check_password(STRONG)


def test_a_password_like_the_username_is_refused(as_admin):
    response = add_user(as_admin, "margaret.hamilton", "margaret.hamilton1")
    assert response.status_code == 200
    assert "The password is too similar to the username." in response.content.decode()


@pytest.mark.parametrize("password", sorted(WEAK))
def test_the_admin_password_change_refuses_a_weak_password(as_admin, password):
    user = f.agent().user
    response = as_admin.post(f"/admin/auth/user/{user.pk}/password/",
                             {"usable_password": "true", "password1": password, "password2": password})
    assert response.status_code == 200
    assert WEAK[password] in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(f.PASSWORD)


def test_the_admin_password_change_accepts_a_strong_password(as_admin):
    user = f.agent().user
    response = as_admin.post(f"/admin/auth/user/{user.pk}/password/",
                             {"usable_password": "true", "password1": STRONG, "password2": STRONG})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG)

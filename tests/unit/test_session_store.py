"""The database session store reads what Django's reads, with one plain query."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from helpdesk.session_store import SessionStore

pytestmark = pytest.mark.django_db


def stored(data):
    store = SessionStore()
    store.update(data)
    store.save()
    return store.session_key


def test_a_session_reads_as_with_djangos_store(django_assert_num_queries):
    key = stored({"_auth_user_id": "7", "note": "é ✓"})
    with django_assert_num_queries(1):
        loaded = SessionStore(key).load()
    assert loaded == db.SessionStore(key).load() == {"_auth_user_id": "7", "note": "é ✓"}


def test_an_expired_or_unknown_session_is_empty_and_forgotten():
    key = stored({"note": "old"})
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    for session_key in (key, "x" * 32, None):
        store = SessionStore(session_key)
        assert store.load() == {} and store.session_key is None


def test_an_expired_session_signs_the_agent_out(settings, client, alice):
    settings.SESSION_ENGINE = "helpdesk.session_store"  # the default without a shared cache
    client.force_login(alice.user)
    as_alice = client
    assert as_alice.get(reverse("ticket_list")).status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = as_alice.get(reverse("ticket_list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]

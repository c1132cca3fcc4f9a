"""A chat site's secret at rest: sealed under FIELD_ENCRYPTION_KEYS, shown to the admin only once
(when made or rotated), and when no key opens it the widget, the demo page and the admin say so
clearly, log the site's key and never the secret."""

import io
import logging
import re

import pytest
from asgiref.sync import sync_to_async
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from helpdesk import secret_store
from helpdesk.chat import identity
from helpdesk.chat.models import Chat, ChatSite
from helpdesk.models import Event
from tests import factories as f
from tests.chat.helpers import hello, site, widget

OTHER_KEY = Fernet.generate_key().decode()
SECRET_SHOWN = re.compile(r'<pre class="secret-value">([^<]+)</pre>')


def shown_secrets(response):
    return SECRET_SHOWN.findall(response.content.decode())


def verifies(site_, secret):
    signed = identity.signed_identity(secret, "cust-1")
    try:
        identity.verify(site_.secret, "cust-1", signed["expires"], signed["signature"])
    except identity.IdentityError:
        return False
    return True


@pytest.mark.django_db
def test_the_secret_is_stored_sealed_and_read_through_one_property():
    s = site(f.team("Support"))
    plain = s.secret
    row = ChatSite.objects.filter(pk=s.pk).values().get()
    assert plain and all(plain not in str(value) for value in row.values())
    assert secret_store.unseal(row["sealed_secret"]) == plain
    assert (ChatSite, "sealed_secret") in secret_store.sealed_fields()
    assert site(f.team("Billing"), key="other").secret != plain  # each site gets its own


@pytest.mark.django_db
def test_rotating_the_encryption_keys_reseals_the_site_secret(settings):
    s = site(f.team("Support"))
    plain, sealed_before = s.secret, s.sealed_secret
    settings.FIELD_ENCRYPTION_KEYS = [OTHER_KEY, *settings.FIELD_ENCRYPTION_KEYS]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    s.refresh_from_db()
    assert s.sealed_secret != sealed_before
    settings.FIELD_ENCRYPTION_KEYS = [OTHER_KEY]  # the old key dropped: the secret still opens
    assert s.secret == plain


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_plain_secrets_and_undoing_it_unseals_them():
    before, after = [("chat", "0001_initial")], [("chat", "0002_sealed_site_secret")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        team = old.get_model("helpdesk", "Team").objects.create(name="Support")
        old.get_model("chat", "ChatSite").objects.create(key="shop", name="Shop", team_id=team.pk, secret="plain-secret-1")
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps
        sealed = new.get_model("chat", "ChatSite").objects.get(key="shop").sealed_secret
        assert "plain-secret-1" not in sealed and secret_store.unseal(sealed) == "plain-secret-1"

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        assert old.get_model("chat", "ChatSite").objects.get(key="shop").secret == "plain-secret-1"
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert ChatSite.objects.get(key="shop").secret == "plain-secret-1"


@pytest.mark.django_db
def test_the_admin_shows_a_new_sites_secret_once_and_never_lists_it(admin_client):
    team = f.team("Support")
    response = admin_client.post("/admin/chat/chatsite/add/", {
        "key": "shop", "name": "Shop", "team": team.pk, "allowed_origins": "https://shop.example.com",
        "created_at_0": "2026-12-01", "created_at_1": "10:00:00",
    }, follow=True)
    assert response.status_code == 200
    s = ChatSite.objects.get(key="shop")
    assert shown_secrets(response) == [s.secret]
    for url in ("/admin/chat/chatsite/", f"/admin/chat/chatsite/{s.pk}/change/"):
        page = admin_client.get(url)
        assert page.status_code == 200
        assert not shown_secrets(page) and s.secret not in page.content.decode()
        assert s.sealed_secret not in page.content.decode()
    assert "sealed_secret" not in admin_client.get("/admin/chat/chatsite/add/").content.decode()
    assert Event.objects.filter(verb="chat_site_created", data__site="shop").exists()


@pytest.mark.django_db
def test_the_rotate_action_gives_a_new_secret_shown_once_and_the_old_one_stops_verifying(admin_client):
    s = site(f.team("Support"))
    other = site(f.team("Billing"), key="other")
    old, others_secret = s.secret, other.secret
    response = admin_client.post("/admin/chat/chatsite/", {"action": "rotate_secret", "_selected_action": [s.pk]},
                                 follow=True)
    assert response.status_code == 200
    s.refresh_from_db()
    assert shown_secrets(response) == [s.secret] and s.secret != old
    assert verifies(s, s.secret) and not verifies(s, old)
    assert ChatSite.objects.get(pk=other.pk).secret == others_secret  # not selected: unchanged
    assert not shown_secrets(admin_client.get("/admin/chat/chatsite/"))
    assert Event.objects.filter(verb="chat_site_secret_rotated", data__site="shop").count() == 1


@pytest.mark.django_db
def test_the_admin_marks_a_site_whose_secret_cannot_be_decrypted(admin_client, caplog, keys_changed):
    s = site(f.team("Support"))
    keys_changed()
    with caplog.at_level(logging.WARNING):
        response = admin_client.get("/admin/chat/chatsite/")
    assert response.status_code == 200
    assert "Cannot be decrypted (encryption keys changed?): rotate it" in response.content.decode()
    assert f"Chat site shop (id {s.pk})" in caplog.text and s.sealed_secret not in caplog.text


@pytest.mark.django_db
def test_the_demo_page_answers_503_with_the_reason(client, settings, caplog, keys_changed):
    settings.CHAT_DEMO_PAGE = True
    s = site(f.team("Support"), key=settings.CHAT_DEMO_SITE)
    assert client.get("/demo/chat/").status_code == 200
    keys_changed()
    with caplog.at_level(logging.WARNING):
        response = client.get("/demo/chat/")
    assert response.status_code == 503
    assert "secret cannot be decrypted" in response.content.decode()
    assert f"Demo chat site {s.key} (id {s.pk})" in caplog.text


@pytest.mark.django_db(transaction=True)
async def test_the_widget_hello_gets_a_clear_error_frame_when_the_site_secret_cannot_be_decrypted(caplog, keys_changed):
    s = await sync_to_async(site)(await sync_to_async(f.team)("Support"))
    frame = await sync_to_async(hello)(s, "cust-1")
    keys_changed()
    ws = widget()
    connected, _ = await ws.connect()
    assert connected
    with caplog.at_level(logging.WARNING):
        await ws.send_json_to(frame)
        error = await ws.receive_json_from(timeout=3)
        closed = await ws.receive_output(timeout=3)
    assert error["type"] == "error" and error["code"] == "site_unavailable"
    assert "until an admin rotates the site's secret" in error["text"]
    assert closed == {"type": "websocket.close", "code": 4403}
    assert f"Chat site shop (id {s.pk}): its secret cannot be decrypted" in caplog.text
    assert s.sealed_secret not in caplog.text
    assert not await sync_to_async(Chat.objects.exists)()
    await ws.disconnect()

"""Secrets at rest: sealed under FIELD_ENCRYPTION_KEYS (first key seals, every key opens), never
under a key derived from SECRET_KEY; `rotate_encryption_keys` moves every stored secret to the
first key and names, by id only, what no key opens."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from helpdesk import secret_store
from helpdesk.secret_store import SecretUnavailable, seal, unseal
from helpdesk.webhooks.models import IncomingEndpoint, OutgoingEndpoint
from integrations.cobrowse import account
from integrations.cobrowse.models import SigningKey
from tests.webhooks.helpers import incoming_endpoint, outgoing_endpoint

KEY_A, KEY_B, KEY_C = (Fernet.generate_key().decode() for _ in range(3))
ROOT = Path(__file__).resolve().parents[2]


def test_a_sealed_value_opens_and_does_not_show_the_plain_text(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    token = seal("whsec_plain")
    assert "whsec_plain" not in token
    assert unseal(token) == "whsec_plain"


def test_the_first_key_seals_and_every_key_opens(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    old = seal("made under A")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    new = seal("made under B")
    assert unseal(old) == "made under A" and unseal(new) == "made under B"
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    assert unseal(new) == "made under B"
    with pytest.raises(SecretUnavailable):
        unseal(old)


def test_an_undecryptable_value_says_so_without_the_secret_or_the_token(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    token = seal("whsec_topsecret")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    with pytest.raises(SecretUnavailable) as caught:
        unseal(token, "The endpoint's secret")
    message = str(caught.value)
    assert message.startswith("The endpoint's secret cannot be decrypted") and "encryption keys changed?" in message
    assert "whsec_topsecret" not in message and token not in message and KEY_A not in message
    assert not secret_store.can_unseal(token)


@pytest.mark.parametrize("garbage", ["", "not a token", b"\x00\xff"])
def test_garbage_is_undecryptable_not_a_crash(garbage):
    with pytest.raises(SecretUnavailable):
        unseal(garbage)
    with pytest.raises(SecretUnavailable):
        secret_store.reseal(garbage)


def test_secret_key_plays_no_part(settings):
    token = seal("independent")
    settings.SECRET_KEY = "a-completely-different-secret-key-0123456789-abcdefghij"
    assert unseal(token) == "independent"


def test_a_malformed_key_is_a_configuration_error_naming_its_position_not_its_value(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A, "short-and-wrong"]
    with pytest.raises(ImproperlyConfigured, match="entry 2 is not a Fernet key") as caught:
        seal("x")
    assert "short-and-wrong" not in str(caught.value)


def test_the_settings_refuse_to_start_with_a_malformed_key():
    env = {"PATH": os.environ["PATH"], "SECRET_KEY": "k" * 50, "COBROWSE_API": "https://api.cobrowse.io",
           "HELPDESK_PUBLIC_URL": "https://helpdesk.example.com",
           "FIELD_ENCRYPTION_KEYS": f"{KEY_A},not-a-fernet-key"}
    result = subprocess.run([sys.executable, "-c", "import helpdesk.settings"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be Fernet keys" in result.stderr
    assert "not-a-fernet-key" not in result.stderr


@pytest.mark.django_db
def test_a_generated_signing_key_is_sealed_and_survives_a_new_secret_key(settings):
    key = account.generate_key(None)
    stored = SigningKey.objects.get(pk=key.pk).sealed_private_pem
    assert "PRIVATE KEY" not in stored and "PRIVATE KEY" in unseal(stored)
    settings.SECRET_KEY = "a-completely-different-secret-key-0123456789-abcdefghij"
    assert account.private_key_of(key).key_size == 2048


# --- rotate_encryption_keys ---------------------------------------------------------------------

def rotate():
    out, err = StringIO(), StringIO()
    try:
        call_command("rotate_encryption_keys", stdout=out, stderr=err)
    except CommandError as exc:
        return False, out.getvalue(), err.getvalue() + str(exc)
    return True, out.getvalue(), err.getvalue()


@pytest.fixture
def secrets_under_a(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    incoming, in_secret = incoming_endpoint()
    outgoing, out_secret = outgoing_endpoint("http://127.0.0.1:9/hook")
    key = account.generate_key(None)
    return {"incoming": (incoming, in_secret), "outgoing": (outgoing, out_secret), "key": key}


def private_pem_of(key):
    return unseal(SigningKey.objects.get(pk=key.pk).sealed_private_pem)


@pytest.mark.django_db
def test_rotation_moves_every_stored_secret_to_the_first_key(settings, secrets_under_a):
    pem = private_pem_of(secrets_under_a["key"])
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    ok, out, err = rotate()
    assert ok, err
    assert "webhooks.IncomingEndpoint.encrypted_secret: 1 re-encrypted" in out
    assert "webhooks.OutgoingEndpoint.encrypted_secret: 1 re-encrypted" in out
    assert "cobrowse.SigningKey.sealed_private_pem: 1 re-encrypted" in out

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]  # the old key is dropped
    assert IncomingEndpoint.objects.get().secret == secrets_under_a["incoming"][1]
    assert OutgoingEndpoint.objects.get().secret == secrets_under_a["outgoing"][1]
    assert private_pem_of(secrets_under_a["key"]) == pem
    loaded = account.private_key_of(secrets_under_a["key"])
    public = loaded.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert public == secrets_under_a["key"].public_pem


@pytest.mark.django_db
def test_rotation_names_what_no_key_opens_by_id_leaves_it_and_fails(settings, secrets_under_a):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_C]
    lost, lost_secret = incoming_endpoint(name="Made under C")
    lost_token = IncomingEndpoint.objects.get(pk=lost.pk).encrypted_secret
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    ok, out, err = rotate()
    assert not ok
    assert f"webhooks.IncomingEndpoint.encrypted_secret id={lost.pk}" in err
    assert "1 stored secret(s) cannot be decrypted" in err
    assert "webhooks.IncomingEndpoint.encrypted_secret: 1 re-encrypted, 1 cannot be decrypted" in out
    assert lost_secret not in out + err and lost_token not in out + err
    assert IncomingEndpoint.objects.get(pk=lost.pk).encrypted_secret == lost_token  # left alone
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]  # the readable ones were rotated all the same
    assert IncomingEndpoint.objects.get(pk=secrets_under_a["incoming"][0].pk).secret == secrets_under_a["incoming"][1]
    assert OutgoingEndpoint.objects.get().secret == secrets_under_a["outgoing"][1]


@pytest.mark.django_db
def test_rotation_with_nothing_stored_succeeds():
    ok, out, err = rotate()
    assert ok and "webhooks.IncomingEndpoint.encrypted_secret: 0 re-encrypted" in out and not err

"""Which Cobrowse account the helpdesk talks to: API base URL, license key and the key that signs
agent JWTs. Admin overrides in the database win over the environment (settings.COBROWSE_*).

Rotation without downtime: a new key pair is generated (pending), its public key registered with
Cobrowse, then activated once a token signed with it is accepted. New tokens use the new key; tokens
signed by the old one stay valid until they expire, as long as its public key stays registered.
"""

import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from helpdesk import secret_store
from helpdesk import services as helpdesk
from helpdesk.events import Verb

from .models import AccountSettings, SigningKey

logger = logging.getLogger(__name__)

CACHE_KEY = "cobrowse-account-v1"
CACHE_SECONDS = 5  # how stale another process may be after an admin change
FILE_KEY_ID = "file"


@dataclass(frozen=True)
class Overrides:
    api: str
    license_key: str
    key_id: str | None  # the active generated key, or None: the key file from the environment


def _overrides():
    cached = cache.get(CACHE_KEY)
    if cached is None:
        row = AccountSettings.objects.filter(pk=1).values_list("api", "license_key", "active_key__key_id").first()
        cached = Overrides(*(row or ("", "", None)))
        cache.set(CACHE_KEY, cached, CACHE_SECONDS)
    return cached


def changed():
    cache.delete(CACHE_KEY)


def api():
    """The API base URL: the admin's override if it is (still) allowed, else settings.COBROWSE_API."""
    override = _overrides().api.rstrip("/")
    if override:
        problem = api_refusal(override)
        if problem is None:
            return override
        logger.warning("The saved Cobrowse API URL %s is not used: %s. Calling COBROWSE_API instead.", override, problem)
    return settings.COBROWSE_API.rstrip("/")


def api_refusal(url):
    """Why an admin may not choose `url` as the API base URL, or None: it must be one of
    settings.COBROWSE_API_ALLOWED, and https when DEBUG is off."""
    if url.rstrip("/") not in allowed_apis():
        return "it is not one of COBROWSE_API_ALLOWED"
    if not settings.DEBUG and not url.startswith("https://"):
        return "it is not https (required when DEBUG is off)"
    return None


def allowed_apis():
    return [u.rstrip("/") for u in settings.COBROWSE_API_ALLOWED]


@lru_cache(maxsize=8)
def _read_license_key_file(path, mtime_ns):
    # Read on every token; the file changes only when the sandbox writes a new one.
    with open(path) as fh:
        return fh.read().strip()


def license_key():
    value = _overrides().license_key or settings.COBROWSE_LICENSE_KEY
    if value:
        return value
    path = settings.COBROWSE_LICENSE_KEY_FILE
    try:
        return _read_license_key_file(str(path), path.stat().st_mtime_ns)
    except OSError as exc:
        raise ImproperlyConfigured(
            "No Cobrowse license key: set COBROWSE_LICENSE_KEY (the sandbox writes one on first start)."
        ) from exc


# --- signing keys --------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _load_file_key(path, mtime):
    with open(path, "rb") as fh:
        return serialization.load_pem_private_key(fh.read(), password=None)


def _stored_key(key_id):
    return _load_stored_key(key_id, tuple(settings.FIELD_ENCRYPTION_KEYS))


@lru_cache(maxsize=8)
def _load_stored_key(key_id, encryption_keys):
    # encryption_keys: the key as the current FIELD_ENCRYPTION_KEYS open it, not as they once did.
    key = SigningKey.objects.filter(key_id=key_id).first()
    if key is None:
        raise ImproperlyConfigured(f"Signing key {key_id} no longer exists.")
    try:
        pem = secret_store.unseal(key.sealed_private_pem)
    except secret_store.SecretUnavailable:
        logger.error("Cobrowse signing key %s (id %s) cannot be decrypted with FIELD_ENCRYPTION_KEYS", key_id, key.pk)
        raise ImproperlyConfigured(
            f"Signing key {key_id} cannot be decrypted (encryption keys changed?): generate and activate a new key."
        ) from None
    return serialization.load_pem_private_key(pem.encode(), password=None)


def signing_key():
    """(key_id, private key) that signs new tokens."""
    key_id = _overrides().key_id
    if key_id:
        return key_id, _stored_key(key_id)
    path = settings.COBROWSE_PRIVATE_KEY_FILE
    try:
        return FILE_KEY_ID, _load_file_key(str(path), path.stat().st_mtime)
    except (OSError, ValueError):
        # Say which file, never what is in it.
        raise ImproperlyConfigured(f"Cannot read the Cobrowse private key file {path.name!r}.") from None


def private_key_of(key):
    return _stored_key(key.key_id)


def unreadable_keys(keys):
    """The key_ids of those keys whose private half no encryption key opens (logged)."""
    unreadable = {key.key_id for key in keys if not secret_store.can_unseal(key.sealed_private_pem)}
    if unreadable:
        logger.warning("Cobrowse signing keys %s cannot be decrypted with FIELD_ENCRYPTION_KEYS", sorted(unreadable))
    return unreadable


def generate_key(actor):
    """A new pending key pair; its public key is to be registered with Cobrowse. Returns the key."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    key_id = hashlib.sha256(public_pem.encode()).hexdigest()[:16]
    with transaction.atomic():
        key = SigningKey.objects.create(key_id=key_id, public_pem=public_pem,
                                        sealed_private_pem=secret_store.seal(private_pem), created_by=actor)
        helpdesk.record(None, actor, Verb.SIGNING_KEY_GENERATED, key_id=key_id)
    return key


def activate(key, actor):
    """Make `key` the one that signs new tokens; the previous one is retired (its tokens live on).
    Call it once Cobrowse accepts a token signed with the key (services.check_key)."""
    with transaction.atomic():
        now = timezone.now()
        row, _ = AccountSettings.objects.select_for_update().get_or_create(pk=1)
        SigningKey.objects.filter(state=SigningKey.State.ACTIVE).exclude(pk=key.pk).update(
            state=SigningKey.State.RETIRED, retired_at=now)
        SigningKey.objects.filter(pk=key.pk).update(state=SigningKey.State.ACTIVE, activated_at=now, retired_at=None)
        previous = row.active_key.key_id if row.active_key else FILE_KEY_ID
        row.active_key = key
        row.save(update_fields=["active_key", "updated_at"])
        helpdesk.record(None, actor, Verb.SIGNING_KEY_ACTIVATED, key_id=key.key_id, previous=previous)
    changed()
    key.refresh_from_db()
    return key


def discard_key(key, actor):
    """Delete a key that never signed anything (still pending)."""
    with transaction.atomic():
        deleted, _ = SigningKey.objects.filter(pk=key.pk, state=SigningKey.State.PENDING).delete()
        if deleted:
            helpdesk.record(None, actor, Verb.SIGNING_KEY_DISCARDED, key_id=key.key_id)
    return bool(deleted)


def save_settings(actor, *, api, license_key):
    with transaction.atomic():
        row, _ = AccountSettings.objects.select_for_update().get_or_create(pk=1)
        before = {"api": row.api, "license_key": row.license_key}
        after = {"api": api, "license_key": license_key}
        if before != after:
            row.api, row.license_key, row.updated_by = api, license_key, actor
            row.save()
            helpdesk.record(None, actor, Verb.COBROWSE_SETTINGS_CHANGED, before=before, after=after)
    changed()
    return row

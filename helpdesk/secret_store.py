"""Secrets at rest: sealed with Fernet under settings.FIELD_ENCRYPTION_KEYS, never with SECRET_KEY.

The first key seals; every key in the list unseals, so a new key can be put in front and the stored
values re-sealed under it (`manage.py rotate_encryption_keys`) before the old key is dropped.
A model field that holds a sealed value is a SealedField: that is how the rotation finds it.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class SecretUnavailable(Exception):
    """A stored value that no key in FIELD_ENCRYPTION_KEYS can decrypt. The message never holds
    the value; callers add the ids of what it belongs to."""

    def __init__(self, what="A stored secret"):
        super().__init__(f"{what} cannot be decrypted with the configured FIELD_ENCRYPTION_KEYS "
                         "(encryption keys changed?).")


class SealedField(models.TextField):
    """Text that is a seal() token; plain values never go in. Reading it does not unseal it."""


@lru_cache(maxsize=4)
def _multi_fernet(keys):
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            # Say which entry, never what it holds.
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS entry {position} is not a Fernet key (32 url-safe base64-encoded bytes)."
            ) from None
    if not fernets:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    return MultiFernet(fernets)


def _fernet():
    return _multi_fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def seal(text):
    """The token to store for `text`, sealed under the first key."""
    return _fernet().encrypt(text.encode()).decode()


def unseal(token, what="A stored secret"):
    """The text sealed in `token`, or SecretUnavailable when no key opens it."""
    try:
        return _fernet().decrypt(_as_bytes(token)).decode()
    except InvalidToken:
        raise SecretUnavailable(what) from None


def can_unseal(token):
    try:
        unseal(token)
    except SecretUnavailable:
        return False
    return True


def reseal(token):
    """The same text sealed under the first key (SecretUnavailable when no key opens it)."""
    try:
        return _fernet().rotate(_as_bytes(token)).decode()
    except InvalidToken:
        raise SecretUnavailable() from None


def _as_bytes(token):
    return token if isinstance(token, bytes) else (token or "").encode()


def sealed_fields():
    """(model, field name) of every SealedField of the installed apps."""
    return [(model, field.name) for model in apps.get_models() if not model._meta.proxy
            for field in model._meta.concrete_fields if isinstance(field, SealedField)]

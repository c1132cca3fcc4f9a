"""Webhook secrets at rest: encrypted with a key derived from SECRET_KEY (Fernet)."""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(secret_key):
    digest = hashlib.sha256(f"webhook-secrets:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(value):
    return _fernet(settings.SECRET_KEY).encrypt(value.encode()).decode()


def unseal(token):
    return _fernet(settings.SECRET_KEY).decrypt(token.encode()).decode()

"""Verified customer identity: the site's backend signs the user_id and an expiry with the site secret.

    signature = hex(HMAC-SHA256(site secret, f"{user_id}\\n{expires}"))   # expires: Unix seconds

The widget passes user_id, expires and signature; the helpdesk recomputes the signature and refuses
an unsigned, forged or expired identity. sign() is what a site backend (or the demo page) runs.
"""

import hashlib
import hmac
import time

from django.conf import settings

from helpdesk import json_input
from helpdesk.services import storable_text

MAX_USER_ID = 100
EXPIRES = json_input.Int(min_value=0, from_text=True)


class IdentityError(Exception):
    """A refused identity; code is machine-readable, the message is for the person."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def sign(secret, user_id, expires):
    payload = f"{user_id}\n{int(expires)}".encode()
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def signed_identity(secret, user_id, *, lifetime=3600, now=None):
    """The data- attributes a site backend puts on the widget's script tag."""
    expires = int((now if now is not None else time.time()) + lifetime)
    return {"user_id": user_id, "expires": expires, "signature": sign(secret, user_id, expires)}


def verify(secret, user_id, expires, signature, *, now=None):
    """Return the verified user_id, or raise IdentityError."""
    if not user_id or not signature or expires in (None, ""):
        raise IdentityError("unsigned", "The identity is not signed: user_id, expires and signature are required.")
    if not isinstance(user_id, str) or len(user_id) > MAX_USER_ID or "\n" in user_id or not storable_text(user_id):
        raise IdentityError("bad_identity", f"user_id must be text of at most {MAX_USER_ID} characters, on one line, with no NUL.")
    try:
        expires = EXPIRES.clean(expires, "expires")
    except json_input.InvalidInput:
        raise IdentityError("bad_identity", "expires must be a Unix time in seconds.") from None
    expected = sign(secret, user_id, expires)
    if not json_input.is_hex(signature, len(expected)):
        raise IdentityError("bad_identity", f"signature must be {len(expected)} hexadecimal characters.")
    if not hmac.compare_digest(expected, signature.lower()):
        raise IdentityError("forged", "The identity signature does not match; it was not signed by this site.")
    now = now if now is not None else time.time()
    if expires <= now:
        raise IdentityError("expired", "The signed identity has expired; reload the page to get a fresh one.")
    if expires - now > settings.CHAT_IDENTITY_MAX_LIFETIME:
        raise IdentityError("bad_identity", "The signed identity is valid for too long; sign it with a shorter expiry.")
    return user_id

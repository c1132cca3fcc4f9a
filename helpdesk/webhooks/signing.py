"""The signature both directions use: HMAC-SHA256 over "<timestamp>.<body>", sent as

    X-Helpdesk-Timestamp: 1764150000
    X-Helpdesk-Signature: v1=<hex digest>

A request is accepted within WINDOW seconds of its timestamp, either way (clock skew)."""

import hashlib
import hmac
import time

from helpdesk.json_input import is_hex

TIMESTAMP_HEADER = "X-Helpdesk-Timestamp"
SIGNATURE_HEADER = "X-Helpdesk-Signature"
WINDOW = 300


class SignatureError(Exception):
    pass


def signature(secret, timestamp, body):
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def headers(secret, body, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: f"v1={signature(secret, timestamp, body)}"}


def verify(secret, timestamp, signature_header, body, now=None):
    """The verified signature (hex), or SignatureError saying what is wrong."""
    if not timestamp or not signature_header:
        raise SignatureError(f"Missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header.")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise SignatureError(f"{TIMESTAMP_HEADER} must be a Unix time in seconds.")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > WINDOW:
        raise SignatureError(f"The timestamp is more than {WINDOW // 60} minutes away from now; sign the request again.")
    expected = signature(secret, timestamp, body)
    for part in signature_header.split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == "v1" and is_hex(value, len(expected)) and hmac.compare_digest(value.lower(), expected):
            return expected
    raise SignatureError("The signature does not match the body and timestamp.")

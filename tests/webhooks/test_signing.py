"""The signature scheme both directions use."""

import pytest

from helpdesk.webhooks import signing
from helpdesk.webhooks.models import IncomingEndpoint
from helpdesk.secret_store import seal, unseal

NOW = 1_764_150_000
BODY = b'{"ticket_id": 1}'


def signed(secret="s3cret", body=BODY, ts=NOW):
    h = signing.headers(secret, body, ts)
    return h[signing.TIMESTAMP_HEADER], h[signing.SIGNATURE_HEADER]


def test_a_signed_body_verifies_and_gives_its_signature():
    ts, sig = signed()
    assert signing.verify("s3cret", ts, sig, BODY, now=NOW) == sig.removeprefix("v1=")


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    import hashlib
    import hmac

    ts, sig = signed()
    assert sig == "v1=" + hmac.new(b"s3cret", f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("change, message", [
    (dict(secret="other"), "does not match"),
    (dict(body=BODY + b" "), "does not match"),
    (dict(now=NOW + 301), "more than 5 minutes"),
    (dict(now=NOW - 301), "more than 5 minutes"),
    (dict(ts="17641500x0"), "Unix time"),
    (dict(ts=""), "Missing"),
    (dict(sig=""), "Missing"),
    (dict(sig="v0=abc"), "does not match"),
])
def test_what_does_not_verify_says_why(change, message):
    ts, sig = signed()
    secret, body, now = change.get("secret", "s3cret"), change.get("body", BODY), change.get("now", NOW)
    with pytest.raises(signing.SignatureError, match=message):
        signing.verify(secret, change.get("ts", ts), change.get("sig", sig), body, now=now)


def test_a_second_signature_in_the_header_is_accepted_for_rotation():
    ts, sig = signed()
    assert signing.verify("s3cret", ts, f"v1=deadbeef, {sig}", BODY, now=NOW)


def test_the_edge_of_the_window_is_inside():
    ts, sig = signed()
    assert signing.verify("s3cret", ts, sig, BODY, now=NOW + 300)


def test_secrets_are_stored_encrypted():
    endpoint = IncomingEndpoint(name="x")
    plain = endpoint.new_secret()
    assert plain.startswith("whsec_") and plain not in endpoint.encrypted_secret
    assert endpoint.secret == plain == unseal(seal(plain))

"""The values a deployment must set, given test-only values, for the tests and the benchmarks.
They go into the environment so that the helpdesk servers started as subprocesses get them too."""

import os

TEST_ENVIRONMENT = {
    "SECRET_KEY": "test-only-secret-key-not-for-any-deployment-0123456789",
    "FIELD_ENCRYPTION_KEYS": "9Kwz0G3hYc1m3hR6yqM0a5p2b8V8a7Z2m1bW1nT3xkE=",
    "COBROWSE_API": "http://127.0.0.1:8001",
    "HELPDESK_PUBLIC_URL": "http://127.0.0.1:8000",
    # The sandbox, the webhook receivers and the helpdesk servers of the tests are on loopback.
    "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8,::1",
    # The test servers speak plain HTTP on loopback.
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    # Most tests predate the deny-by-default switch; tests of the switch turn it on.
    "COBROWSE_DENY_UNRESTRICTED_TEAMS": "false",
    # Tests and benchmarks open many widgets from loopback, often with one identity (and share one
    # Redis); the tests of these limits set them.
    "CHAT_MAX_CONNECTIONS_PER_IDENTITY": "0",
    "CHAT_MAX_CONNECTIONS_PER_ADDRESS": "0",
}


def apply():
    for name, value in TEST_ENVIRONMENT.items():
        os.environ.setdefault(name, value)

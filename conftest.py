import os

# The Playwright sync API runs an event loop in the test thread; the ORM calls made by
# browser tests are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.browser",
    "tests.fixtures.cobrowse",
    "tests.fixtures.dns",
    "tests.fixtures.log_secrets",
]


def pytest_collection_modifyitems(config, items):
    # Playwright's sync API keeps an event loop running for the rest of the session once the
    # browser starts, which breaks asyncio tests that come after it: run browser tests last.
    items.sort(key=lambda item: "browser" in item.keywords)


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rendered fragments are cached by version; each test starts with an empty cache."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets a channel layer of its own, as each process does: channels_redis keeps asyncio
    locks across calls, and one left held when a test's event loop closed (a message's backup
    clean-up still pending) would be bound to that loop in the next test."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()

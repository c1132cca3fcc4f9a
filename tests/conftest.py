"""The team, agent and admin most tests start from, and encryption keys that change under stored secrets."""

import pytest
from cryptography.fernet import Fernet

from helpdesk.models import Agent
from tests import factories as f


@pytest.fixture
def support():
    return f.team("Support")


@pytest.fixture
def alice(support):
    return f.agent(support, name="Alice Agent")


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice.user)
    return client


@pytest.fixture
def as_ada(client):
    """Signed in as a helpdesk admin (the settings pages), not a Django superuser."""
    client.force_login(f.agent(None, role=Agent.Role.ADMIN, name="Ada Admin").user)
    return client


@pytest.fixture
def keys_changed(settings):
    """Call it once the secrets are stored: from then on no FIELD_ENCRYPTION_KEYS key opens them."""
    return lambda: setattr(settings, "FIELD_ENCRYPTION_KEYS", [Fernet.generate_key().decode()])

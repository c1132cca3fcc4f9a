"""The team and agent most tests start from."""

import pytest

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

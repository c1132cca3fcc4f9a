"""How a session is matched to the ticket's customer when the service does not say which device
the session is on (the contract's session resource has no device id; the sandbox adds one)."""

import pytest

from integrations.cobrowse import services
from tests import factories as f

pytestmark = pytest.mark.django_db

DEVICE_INFO = {"device": "Chrome Browser", "platform": "web"}


def session(**fields):
    return {"id": "ses_test_0123456789abcdefgh", "custom_data": {}, "device": None, **fields}


def test_a_joined_session_carrying_the_customers_user_id_is_verified(support, alice):
    ticket = f.ticket(support)
    seen = session(device=DEVICE_INFO, custom_data={"user_id": ticket.customer.user_id})
    assert services.unverified_reason(ticket, alice, seen) is None


def test_a_session_without_user_id_needs_confirmation(support, alice):
    ticket = f.ticket(support)
    assert services.unverified_reason(ticket, alice, session(device=DEVICE_INFO)) == "no_device"


def test_a_session_no_device_joined_needs_confirmation_even_with_the_user_id(support, alice):
    ticket = f.ticket(support)
    seen = session(custom_data={"user_id": ticket.customer.user_id})
    assert services.unverified_reason(ticket, alice, seen) == "no_device"


def test_a_session_naming_another_customer_is_refused(support, alice):
    ticket = f.ticket(support)
    with pytest.raises(services.LinkRefused, match="another customer"):
        services.unverified_reason(ticket, alice, session(device=DEVICE_INFO, custom_data={"user_id": "someone-else"}))

"""URLs of the Cobrowse agent embeds (served by the Cobrowse service, shown in an iframe)."""

from urllib.parse import urlencode

from . import account

# The product draws its own in-session toolbar, so the embed's own controls are hidden.
OWN_CONTROLS = {
    "navigation": "none", "popout": "none", "agent_tools": "none",
    "device_controls": "none", "messages": "none", "session_details": "none",
}


def _url(path, token, **params):
    return f"{account.api()}{path}?{urlencode({**params, 'token': token})}"


def connect_url(customer, token):
    """Connect to the customer's devices (the embed lists or connects to matching devices)."""
    return _url("/connect", token, filter_user_id=customer.user_id, end_action="none", **OWN_CONTROLS)


def code_url(token):
    return _url("/code", token, end_action="none", **OWN_CONTROLS)


def session_url(session_id, token):
    """Re-open a known session; end_action=none so leaving never ends it."""
    return _url(f"/session/{session_id}", token, end_action="none", **OWN_CONTROLS)

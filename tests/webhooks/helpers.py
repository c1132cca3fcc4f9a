"""Signed calls to the incoming webhook endpoint, and endpoints made as an admin would."""

import json
import time

from helpdesk.webhooks import services, signing
from helpdesk.webhooks.models import IncomingEndpoint, OutgoingEndpoint


def incoming_endpoint(name="Contact centre", team=None):
    endpoint = IncomingEndpoint(name=name, team=team)
    secret = services.create(endpoint, None)
    return endpoint, secret


def outgoing_endpoint(url, events=("ticket.closed",), name="CRM"):
    endpoint = OutgoingEndpoint(name=name, url=url, events=list(events))
    secret = services.create(endpoint, None)
    return endpoint, secret


def call(client, endpoint, secret, body, *, timestamp=None, signature=None):
    """POST a body (dict or bytes) to the endpoint, signed with secret unless a signature is given."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = signing.headers(secret, raw, timestamp if timestamp is not None else int(time.time()))
    if signature is not None:
        headers[signing.SIGNATURE_HEADER] = signature
    return client.post(f"/hooks/in/{endpoint.slug}/", raw, content_type="application/json",
                       headers={k: v for k, v in headers.items()})

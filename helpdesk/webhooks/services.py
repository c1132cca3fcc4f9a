"""What admins do with webhook endpoints; each change is an Event (ticket=None) naming who and what."""

import logging

from django.db import transaction

from helpdesk import services as helpdesk
from helpdesk.events import Verb

from . import outgoing
from .models import IncomingEndpoint, OutgoingEndpoint

KINDS = {"incoming": IncomingEndpoint, "outgoing": OutgoingEndpoint}

logger = logging.getLogger(__name__)


def kind_of(endpoint):
    return "incoming" if isinstance(endpoint, IncomingEndpoint) else "outgoing"


def unreadable_secrets(endpoints):
    """The pks of the endpoints whose secret no encryption key opens (logged, never the secret)."""
    pks = {e.pk for e in endpoints if not e.secret_readable}
    if pks:
        logger.warning("Webhook endpoints %s: secret cannot be decrypted (%s)", sorted(pks), kind_of(endpoints[0]))
    return pks


@transaction.atomic
def create(endpoint, actor):
    """Save a new endpoint (built by its form) with a fresh secret; returns the plain secret."""
    secret = endpoint.new_secret()
    endpoint.save()
    helpdesk.record(None, actor, Verb.WEBHOOK_CREATED, kind=kind_of(endpoint), name=endpoint.name)
    return secret


@transaction.atomic
def rotate_secret(endpoint, actor):
    """A new secret; the old one stops working at once. Returns the plain new secret."""
    secret = endpoint.new_secret()
    endpoint.save(update_fields=["encrypted_secret"])
    helpdesk.record(None, actor, Verb.WEBHOOK_SECRET_ROTATED, kind=kind_of(endpoint), name=endpoint.name)
    return secret


@transaction.atomic
def set_enabled(endpoint, enabled, actor):
    endpoint.enabled = enabled
    endpoint.save(update_fields=["enabled"])
    helpdesk.record(None, actor, Verb.WEBHOOK_ENABLED if enabled else Verb.WEBHOOK_DISABLED,
                    kind=kind_of(endpoint), name=endpoint.name)


@transaction.atomic
def delete(endpoint, actor):
    helpdesk.record(None, actor, Verb.WEBHOOK_DELETED, kind=kind_of(endpoint), name=endpoint.name)
    endpoint.delete()


@transaction.atomic
def replay(delivery, actor):
    copy = outgoing.replay(delivery)
    helpdesk.record(None, actor, Verb.WEBHOOK_REPLAYED, name=delivery.endpoint.name, event_type=delivery.event_type,
                    delivery=str(delivery.pk))
    return copy

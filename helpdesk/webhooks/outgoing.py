"""Outgoing webhooks: chosen helpdesk events are POSTed, signed (signing.py), to the admins'
endpoints. A delivery is written in the same transaction as the event it reports, then sent by the
task worker, retried after each of settings.WEBHOOK_RETRY_DELAYS, and logged for the admins.

Delivery is at least once: a receiver recognises a repeat by its X-Helpdesk-Delivery header."""

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk import outbound
from helpdesk.events import Verb
from helpdesk.ops import metrics

from . import signing
from .models import Delivery, OutgoingEndpoint

EVENT_OF_VERB = {
    Verb.CLOSED: "ticket.closed",
    Verb.COBROWSE_LINKED: "cobrowse.session_linked",
    Verb.COBROWSE_ENDED: "cobrowse.session_ended",
}
STALLED_AFTER = timedelta(minutes=2)
SECRET_LOST = ("The endpoint's secret cannot be decrypted (encryption keys changed?): "
               "rotate the secret, give it to the receiver, then replay.")

logger = logging.getLogger(__name__)
EXCERPT_CHARS = 200
# Deliveries retry at the task level (settings.WEBHOOK_RETRY_DELAYS), so the transport does not.
# With DEBUG off a receiver is reached over https, plain http only inside OUTBOUND_ALLOWED_NETWORKS.
_transport = outbound.Transport("webhook", retry=None, https_required=True)


class FinalError(str):
    """An error sentence for a delivery that retrying cannot help: the outbound policy refused the
    target, or the endpoint's secret cannot be decrypted."""


def payload_of(event, event_type):
    ticket = event.ticket
    data = {
        "ticket": {
            "id": ticket.pk,
            "subject": ticket.subject,
            "status": ticket.status,
            "team": ticket.team.slug,
            "customer": {"user_id": ticket.customer.user_id, "name": ticket.customer.name},
            "url": f"{settings.HELPDESK_PUBLIC_URL}/tickets/{ticket.pk}/",
        },
        "actor": event.actor.display_name if event.actor_id else None,
    }
    data.update({k: v for k, v in event.data.items() if k in ("reason", "cause", "session_id", "state")})
    return {"id": f"evt_{event.pk}", "type": event_type, "created_at": event.created_at.isoformat(), "data": data}


def deliver_event(event):
    """An event hook (helpdesk/closing.py): a delivery for each endpoint that asked for this event."""
    event_type = EVENT_OF_VERB.get(event.verb)
    if event_type is None or event.ticket_id is None:
        return
    endpoints = [e for e in OutgoingEndpoint.objects.filter(enabled=True) if event_type in e.events]
    if endpoints:
        payload = payload_of(event, event_type)
        for endpoint in endpoints:
            enqueue(Delivery.objects.create(endpoint=endpoint, event_type=event_type, payload=payload))


def enqueue(delivery):
    from .tasks import deliver

    deliver.enqueue(str(delivery.pk))


def replay(delivery):
    """Send a logged delivery again, as a new delivery of the same payload."""
    copy = Delivery.objects.create(endpoint=delivery.endpoint, event_type=delivery.event_type,
                                   payload=delivery.payload, replay_of=delivery)
    enqueue(copy)
    return copy


def send(endpoint, delivery_id, event_type, payload):
    """POST one payload; returns (HTTP status or None, error sentence or "", response excerpt).
    An error the outbound policy refuses is a FinalError: retrying cannot help."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "helpdesk-webhooks/1",
        "X-Helpdesk-Event": event_type,
        "X-Helpdesk-Delivery": str(delivery_id),
        **signing.headers(endpoint.secret, body),
    }
    try:
        response = _transport.request("POST", endpoint.url, data=body, headers=headers, stream=True,
                                      timeout=settings.WEBHOOK_TIMEOUT,
                                      ids={"delivery": delivery_id, "endpoint": endpoint.pk})
    except outbound.AddressRefused as exc:
        return None, FinalError(exc.short), ""
    except outbound.Refused as exc:
        return None, FinalError(f"refused by the outbound policy: {exc.message}"), ""
    except outbound.Timeout:
        return None, "The receiver did not answer in time.", ""
    except outbound.OutboundError as exc:
        return None, f"Could not reach the receiver ({type(exc).__name__}).", ""
    error = "" if 200 <= response.status_code < 300 else f"The receiver answered HTTP {response.status_code}."
    return response.status_code, error, outbound.excerpt(response, EXCERPT_CHARS)


def attempt(delivery_id):
    """One attempt at a pending delivery. Returns the seconds until the next attempt, or None when
    there is nothing left to do (delivered, failed for good, or not pending)."""
    delivery = Delivery.objects.select_related("endpoint").filter(pk=delivery_id, state=Delivery.State.PENDING).first()
    if delivery is None:
        return None
    if not delivery.endpoint.enabled:
        status, error, excerpt = None, "The endpoint is disabled.", ""
    elif not delivery.endpoint.secret_readable:
        logger.error("Webhook delivery %s: the secret of outgoing endpoint %s cannot be decrypted",
                     delivery.pk, delivery.endpoint_id)
        status, error, excerpt = None, FinalError(SECRET_LOST), ""
    else:
        status, error, excerpt = send(delivery.endpoint, delivery.pk, delivery.event_type, delivery.payload)
    now = timezone.now()
    attempts = delivery.attempts + 1
    delays = settings.WEBHOOK_RETRY_DELAYS
    retry = bool(error) and not isinstance(error, FinalError) and delivery.endpoint.enabled and attempts <= len(delays)
    changes = {"attempts": attempts, "last_status": status, "last_error": error[:300], "response_excerpt": excerpt}
    if not error:
        changes.update(state=Delivery.State.DELIVERED, delivered_at=now)
    elif retry:
        changes.update(next_attempt_at=now + timedelta(seconds=delays[attempts - 1]))
    else:
        changes.update(state=Delivery.State.FAILED)
    if Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.PENDING).update(**changes):
        metrics.observe_webhook_attempt("delivered" if not error else "retry" if retry else "failed")
        if retry:
            logger.warning("Webhook delivery %s (endpoint %s, %s) attempt %s failed, next in %s s: %s",
                           delivery.pk, delivery.endpoint_id, delivery.event_type, attempts, delays[attempts - 1], error)
        elif error:
            logger.error("Webhook delivery %s (endpoint %s, %s) failed for good after %s attempts: %s",
                         delivery.pk, delivery.endpoint_id, delivery.event_type, attempts, error)
    return delays[attempts - 1] if retry else None


def requeue_stalled(now=None):
    """Enqueue again the pending deliveries whose next attempt is long overdue (a worker died
    holding them). Returns how many."""
    now = now or timezone.now()
    count = 0
    for delivery in Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lt=now - STALLED_AFTER):
        with transaction.atomic():
            if Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.PENDING).update(next_attempt_at=now):
                enqueue(delivery)
                count += 1
    return count

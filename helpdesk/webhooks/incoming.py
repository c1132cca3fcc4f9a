"""Incoming webhooks: an external chat or contact-centre platform says an interaction ended.

Body (JSON, signed, see signing.py), naming either the ticket or the customer:

    {"ticket_id": 42, "reason": "call ended"}            closes ticket 42 (its chat and co-browse
                                                          sessions end with it)
    {"customer": {"user_id": "cust-7"}, "reason": "..."}  ends the customer's live interactions:
                                                          open chats close, co-browse sessions of
                                                          their open tickets end; tickets stay open

A user_id is unique per chat site (and among customers created in the helpdesk): "customer": {"user_id":
"cust-7", "site": "shop"} names the customer of chat site "shop", "site": "" the helpdesk's own. Without
"site" the user_id must match one customer only.

Every refusal is a WebhookError with an HTTP status and a sentence; nothing changes on refusal.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk import json_input
from helpdesk import services as helpdesk
from helpdesk.chat import services as chat_services
from helpdesk.chat.models import Chat
from helpdesk.models import Customer, Ticket
from helpdesk.secret_store import SecretUnavailable

from . import signing
from .models import IncomingEndpoint, SeenSignature

MAX_REASON = 200
BODY = json_input.Object({
    "ticket_id": json_input.Int(min_value=1, from_text=True, required=False),
    "customer": json_input.Object({
        "user_id": json_input.Text(max_length=200),
        "site": json_input.Text(max_length=50, blank=True, required=False),
    }, required=False),
    "reason": json_input.Text(max_length=MAX_REASON, blank=True, required=False, default=""),
})

logger = logging.getLogger(__name__)


class WebhookError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    ticket_id: int | None = None
    customer_user_id: str | None = None
    customer_site_given: bool = False
    customer_site: str | None = None  # a chat site key; None: a customer created in the helpdesk
    reason: str = ""


@dataclass
class Outcome:
    closed_tickets: list = field(default_factory=list)
    already_closed: list = field(default_factory=list)
    closed_chats: list = field(default_factory=list)
    interactions_ended: list = field(default_factory=list)

    def as_json(self):
        return {"ok": True, **self.__dict__}


def parse(body):
    """The request a body asks for, or WebhookError(400, or 413 for a body over the size limit)."""
    try:
        data = json_input.parse(body, BODY, max_size=settings.WEBHOOK_MAX_BODY_BYTES)
    except json_input.InvalidInput as exc:
        raise WebhookError(413 if exc.code == "too_large" else 400, exc.reason) from None
    if (data["ticket_id"] is None) == (data["customer"] is None):
        raise WebhookError(400, "Name exactly one of ticket_id or customer.user_id.")
    if data["ticket_id"] is not None:
        return Request(ticket_id=data["ticket_id"], reason=data["reason"])
    customer = data["customer"]
    site = customer["site"]  # None: not given; "": the helpdesk's own customer; else a chat site key
    return Request(customer_user_id=customer["user_id"], customer_site_given=site is not None,
                   customer_site=site or None, reason=data["reason"])


def check_size(length):
    if length > settings.WEBHOOK_MAX_BODY_BYTES:
        raise WebhookError(413, f"The body is larger than {settings.WEBHOOK_MAX_BODY_BYTES} bytes.")


def authenticate(endpoint, timestamp, signature_header, body):
    """The verified signature of this request, or WebhookError(401)."""
    try:
        secret = endpoint.secret
    except SecretUnavailable:
        logger.error("Incoming webhook endpoint %s (%s): its secret cannot be decrypted", endpoint.pk, endpoint.slug)
        raise WebhookError(401, "The endpoint's secret cannot be decrypted (encryption keys changed?): "
                                "an admin must rotate it before calls can be verified.") from None
    try:
        return signing.verify(secret, timestamp, signature_header, body)
    except signing.SignatureError as exc:
        raise WebhookError(401, str(exc)) from None


def receive(slug, body, timestamp, signature_header):
    """Verify, parse and carry out one incoming call; returns its Outcome."""
    endpoint = None
    if helpdesk.storable_text(slug):  # PostgreSQL refuses a NUL (%00 in the path) in a query
        endpoint = IncomingEndpoint.objects.select_related("team").filter(slug=slug, enabled=True).first()
    if endpoint is None:
        raise WebhookError(404, "No enabled webhook endpoint at this address.")
    check_size(len(body))
    signature = authenticate(endpoint, timestamp, signature_header, body)
    request = parse(body)
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                SeenSignature.objects.create(endpoint=endpoint, signature=signature, seen_at=now)
        except IntegrityError:
            raise WebhookError(409, "This request was already received (same signature); sign a new one.") from None
        outcome = _carry_out(endpoint, request)
        IncomingEndpoint.objects.filter(pk=endpoint.pk).update(last_used_at=now)
    SeenSignature.objects.filter(seen_at__lt=now - timedelta(seconds=2 * signing.WINDOW)).delete()
    return outcome


def _tickets(endpoint):
    qs = Ticket.objects.all()
    return qs.filter(team=endpoint.team) if endpoint.team_id else qs


def _customer(request):
    customers = Customer.objects.filter(user_id=request.customer_user_id)
    if request.customer_site_given:
        customers = (customers.filter(site__isnull=True) if request.customer_site is None
                     else customers.filter(site__key=request.customer_site))
    found = list(customers.order_by("pk")[:2])
    if not found:
        raise WebhookError(404, "No customer with this user_id" + (" on this site." if request.customer_site_given else "."))
    if len(found) > 1:
        raise WebhookError(409, "Customers of several chat sites have this user_id: name one with customer.site "
                                "(the site key, or "" for a customer created in the helpdesk).")
    return found[0]


def _carry_out(endpoint, request):
    outcome = Outcome()
    source = f"webhook {endpoint.name}" + (f": {request.reason}" if request.reason else "")
    if request.ticket_id is not None:
        ticket = _tickets(endpoint).filter(pk=request.ticket_id).first()
        if ticket is None:
            raise WebhookError(404, f"No ticket {request.ticket_id} here.")
        try:
            helpdesk.close_ticket(ticket, None, reason=source)
        except helpdesk.ActionError:  # closed already, perhaps by a concurrent call
            outcome.already_closed.append(ticket.pk)
        else:
            outcome.closed_tickets.append(ticket.pk)
        return outcome

    customer = _customer(request)
    tickets = _tickets(endpoint).filter(customer=customer).exclude(status=Ticket.Status.CLOSED)
    chats = (Chat.objects.filter(customer=customer, conversation__ticket__in=tickets)
             .exclude(state=Chat.State.CLOSED).select_related("conversation"))
    with_chat = set()
    for chat in chats:
        with_chat.add(chat.conversation.ticket_id)
        try:
            chat_services.close_chat(chat, None, "webhook")
        except helpdesk.ActionError:  # closed meanwhile
            continue
        outcome.closed_chats.append(chat.pk)
    for ticket in tickets.exclude(pk__in=with_chat):
        helpdesk.end_external_interaction(ticket, None, source=source)
        outcome.interactions_ended.append(ticket.pk)
    return outcome

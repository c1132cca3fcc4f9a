"""Webhooks: incoming endpoints that close interactions, outgoing endpoints that hear about them,
and the log of every outgoing delivery."""

import secrets
import uuid

from django.db import models
from django.utils import timezone

from helpdesk import secret_store
from helpdesk.models import Team

EVENT_TYPES = [
    ("ticket.closed", "Ticket closed"),
    ("cobrowse.session_linked", "Co-browse session linked to a ticket"),
    ("cobrowse.session_ended", "Co-browse session ended"),
]


def new_slug():
    return secrets.token_urlsafe(12)


class EndpointSecret(models.Model):
    """The HMAC secret, kept encrypted at rest; the plain value exists only when it is made."""

    encrypted_secret = secret_store.SealedField(editable=False)

    class Meta:
        abstract = True

    @property
    def secret(self):
        """The plain secret; secret_store.SecretUnavailable when no encryption key opens it."""
        return secret_store.unseal(self.encrypted_secret, "The endpoint's secret")

    @property
    def secret_readable(self):
        return secret_store.can_unseal(self.encrypted_secret)

    def new_secret(self):
        """Replace the secret; returns the plain value, shown to the admin once."""
        value = "whsec_" + secrets.token_urlsafe(32)
        self.encrypted_secret = secret_store.seal(value)
        return value


class IncomingEndpoint(EndpointSecret):
    name = models.CharField(max_length=100)
    slug = models.CharField(max_length=40, unique=True, default=new_slug, editable=False)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE,
                             help_text="Only this team's tickets; empty: every team.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class SeenSignature(models.Model):
    """Signatures already accepted within the replay window: a second use is a replay."""

    endpoint = models.ForeignKey(IncomingEndpoint, on_delete=models.CASCADE)
    signature = models.CharField(max_length=64)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["endpoint", "signature"], name="webhook_signature_once")]


class OutgoingEndpoint(EndpointSecret):
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Delivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(OutgoingEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=50, choices=EVENT_TYPES)
    payload = models.JSONField()
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]
        verbose_name_plural = "deliveries"

    def __str__(self):
        return f"{self.event_type} to {self.endpoint}"

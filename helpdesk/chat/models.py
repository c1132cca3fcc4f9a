"""Live chat: the sites that embed the widget, and one chat per ticket conversation."""

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

from helpdesk import secret_store
from helpdesk.models import Conversation, Customer, Team


def new_secret():
    return secrets.token_urlsafe(32)


def new_sealed_secret():
    return secret_store.seal(new_secret())


class ChatSite(models.Model):
    """A customer-facing website that embeds the widget and signs its users' identities."""

    key = models.SlugField(max_length=50, unique=True, help_text="The site id in the widget's data-site.")
    name = models.CharField(max_length=100)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="chat_sites",
                             help_text="The team whose queue receives this site's chats.")
    allowed_origins = models.TextField(
        blank=True, help_text="One origin per line, e.g. https://shop.example.com (scheme, host and port)."
    )
    # Shared with the site's backend, which signs identities with it; read it through .secret.
    sealed_secret = secret_store.SealedField(default=new_sealed_secret, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def secret(self):
        """The plain secret; secret_store.SecretUnavailable when no encryption key opens it."""
        return secret_store.unseal(self.sealed_secret, "The chat site's secret")

    @property
    def secret_readable(self):
        return secret_store.can_unseal(self.sealed_secret)

    def replace_secret(self):
        """A new random secret (the old one stops verifying once saved); returns the plain value."""
        value = new_secret()
        self.sealed_secret = secret_store.seal(value)
        return value

    @property
    def origins(self):
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()]

    def allows_origin(self, origin):
        return bool(origin) and origin.rstrip("/") in self.origins


class Chat(models.Model):
    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    site = models.ForeignKey(ChatSite, on_delete=models.PROTECT, related_name="chats")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="chats")
    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="chat")
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    created_at = models.DateTimeField(default=timezone.now)
    # Presence: open widget connections, when the customer was last connected, when the last one left.
    customer_connections = models.PositiveIntegerField(default=0)
    customer_seen_at = models.DateTimeField(null=True, blank=True)
    customer_left_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # A customer has at most one open chat per site; a new one starts after it closes.
            models.UniqueConstraint(fields=["site", "customer"], condition=~Q(state="closed"),
                                    name="one_open_chat_per_customer_and_site"),
        ]
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self):
        return f"Chat {self.pk} ({self.get_state_display().lower()})"

    @property
    def ticket(self):
        return self.conversation.ticket

    @property
    def is_closed(self):
        return self.state == self.State.CLOSED

    @property
    def customer_online(self):
        return self.customer_connections > 0

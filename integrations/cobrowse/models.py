from django.db import models
from django.utils import timezone

from helpdesk.models import Agent, Team, Ticket
from helpdesk.secret_store import SealedField


class JwtPolicy(models.Model):
    """The Cobrowse JWT policy that a team's agents carry in their tokens."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="cobrowse_policy")
    policy = models.JSONField(default=dict)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "JWT policy"
        verbose_name_plural = "JWT policies"

    def __str__(self):
        return f"Cobrowse policy of {self.team}"


class SessionLinkQuerySet(models.QuerySet):
    def live(self):
        return self.exclude(state=SessionLink.State.ENDED)


class SessionLink(models.Model):
    """A verified Cobrowse session that belongs to a ticket."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        AUTHORIZING = "authorizing", "Waiting for the customer"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="session_links")
    session_id = models.CharField(max_length=128, unique=True)
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    device_name = models.CharField(max_length=200, blank=True)
    full_device = models.CharField(max_length=20, default="off")
    remote_control = models.CharField(max_length=20, default="off")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)  # first seen active: a session's length starts here
    tagged_at = models.DateTimeField(null=True, blank=True)
    # Set when the helpdesk decides the session must end (ticket or chat closed); the end task
    # and the reconciler keep trying until ended_at is set.
    end_requested_at = models.DateTimeField(null=True, blank=True)
    # The cause it ends with (a key of events.ENDED_BY) when the helpdesk asked for the end.
    end_reason = models.CharField(max_length=30, blank=True)
    end_attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = SessionLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["ticket", "state"]),
            models.Index(fields=["end_requested_at", "ended_at"]),
        ]

    def __str__(self):
        return f"Session {self.session_id} on ticket #{self.ticket_id}"

    @property
    def is_live(self):
        return self.state != self.State.ENDED


class SigningKey(models.Model):
    """An RS256 key pair for agent JWTs, generated here. The private half (PKCS#8 PEM) is stored
    sealed (helpdesk.secret_store); only the public half is ever shown."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be registered"
        ACTIVE = "active", "Signing new tokens"
        RETIRED = "retired", "Retired"

    key_id = models.CharField(max_length=16, unique=True)
    public_pem = models.TextField()
    # Blank for keys made before secrets were sealed under FIELD_ENCRYPTION_KEYS: they cannot sign.
    sealed_private_pem = SealedField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Signing key {self.key_id} ({self.state})"


class AccountSettings(models.Model):
    """Admin overrides of the Cobrowse account settings (one row). Blank: the environment's value."""

    api = models.URLField("API base URL", blank=True, help_text="Blank: COBROWSE_API from the environment.")
    license_key = models.CharField(max_length=200, blank=True, help_text="Blank: COBROWSE_LICENSE_KEY.")
    # The generated key that signs new tokens; None: the key file from the environment.
    active_key = models.ForeignKey("SigningKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "Cobrowse account settings"
        verbose_name_plural = "Cobrowse account settings"

    def __str__(self):
        return "Cobrowse account settings"

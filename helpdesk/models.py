"""The helpdesk domain: teams, agents, customers, tickets and their threads, and the audit trail."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from . import events


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Agent(models.Model):
    """The helpdesk profile of an auth user."""

    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        SUPERVISOR = "supervisor", "Supervisor"
        ADMIN = "admin", "Admin"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="agents")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    display_name = models.CharField(max_length=150)

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.display_name

    @property
    def email(self):
        return self.user.email

    @property
    def sees_all_teams(self):
        return self.role in (self.Role.SUPERVISOR, self.Role.ADMIN)

    @property
    def initials(self):
        parts = self.display_name.split()
        return "".join(p[0] for p in parts[:2]).upper() or "?"


class Customer(models.Model):
    # The identifier the customer's own systems use (also the Cobrowse device custom_data user_id).
    # It is unique within its namespace: the chat site whose signed identity created the customer, or
    # the helpdesk itself (no site: created by an agent, the admin or the demo seed). A site's secret
    # signs only its own customers; a widget never reaches a customer of another site or the helpdesk's.
    user_id = models.CharField(max_length=100, db_index=True)
    site = models.ForeignKey("chat.ChatSite", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="customers", help_text="The chat site this customer belongs to.")
    name = models.CharField(max_length=150)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "user_id"], name="customer_user_id_unique_per_site"),
            models.UniqueConstraint(fields=["user_id"], condition=models.Q(site__isnull=True),
                                    name="customer_user_id_unique_in_helpdesk"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("customer_detail", args=[self.pk])


class Ticket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        CLOSED = "closed", "Closed"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        NORMAL = "normal", "Normal"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEB = "web", "Web form"
        CHAT = "chat", "Live chat"

    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Moves on every change an agent viewing the ticket would see (see versions.bump); keys the
    # cached page. Not updated_at: a viewer arriving must not reorder the ticket list.
    revision = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["team", "-updated_at", "-id"]),
            models.Index(fields=["status", "-updated_at"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["-updated_at", "-id"]),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject}"

    def get_absolute_url(self):
        return reverse("ticket_detail", args=[self.pk])

    @property
    def is_closed(self):
        return self.status == self.Status.CLOSED


class Conversation(models.Model):
    """The thread of one ticket (email replies, chat messages and internal notes)."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="conversation")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Conversation of ticket #{self.ticket_id}"


class Message(models.Model):
    class Kind(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        AGENT = "agent", "Agent reply"
        NOTE = "note", "Internal note"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    author = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    # Set by a client that may retry a send (chat widget): a second copy is dropped.
    client_id = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "client_id"], name="unique_client_message_id"),
        ]
        indexes = [models.Index(fields=["conversation", "created_at", "id"])]

    def __str__(self):
        return f"{self.get_kind_display()} on ticket #{self.conversation.ticket_id}"

    @property
    def is_note(self):
        return self.kind == self.Kind.NOTE


class TicketViewer(models.Model):
    """An open websocket of an agent's ticket page: who else is looking at this ticket now."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="viewers")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    connected_at = models.DateTimeField(default=timezone.now)
    # Touched by the open socket every VIEWER_TOUCH_SECONDS: a row left by a crashed process stops
    # moving, and `manage.py prune` removes it.
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Events are append-only")

    def delete(self):
        raise TypeError("Events are append-only")


class Event(models.Model):
    """Append-only audit trail: who did what to which ticket, when."""

    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    verb = models.CharField(max_length=50, choices=events.Verb.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"]), models.Index(fields=["verb", "created_at"])]

    def __str__(self):
        return f"{self.verb} on ticket #{self.ticket_id}"

    @property
    def sentence(self):
        """What happened, as a person would write it (helpdesk.events)."""
        return events.describe(self)

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("Events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Events are append-only")

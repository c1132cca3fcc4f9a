"""The sandbox's own state: accounts, agents (users), devices and sessions."""

import secrets

from django.db import models

DEFAULT_SETTINGS = {
    "consent_required": True,
    "remote_control": True,
    "remote_control_consent": True,
    "full_device": True,
    "device_listing": True,
    "hide_agent_emails": False,
    "record_sessions": False,
}
COLOURS = ["#FF0000", "#00AA00", "#0066FF", "#FFAA00"]


def token(prefix):
    # [A-Za-z0-9._-] only: it travels in a websocket subprotocol (CONTRACT 7.3).
    return f"{prefix}.{secrets.token_hex(16)}"


def new_id(prefix):
    return f"{prefix}_{secrets.token_hex(12)}"


class Account(models.Model):
    license_key = models.CharField(max_length=100, unique=True)
    settings = models.JSONField(default=dict)
    public_keys = models.JSONField(default=list)  # PEM strings; any of them verifies a JWT
    created = models.DateTimeField()

    def setting(self, name):
        return {**DEFAULT_SETTINGS, **(self.settings or {})}[name]


class User(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="users")
    user_id = models.CharField(max_length=40, unique=True)
    email = models.CharField(max_length=254)
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=20, default="agent")
    colour = models.CharField(max_length=7, default="#3C8DBC")
    notification_token = models.CharField(max_length=64, unique=True)

    class Meta:
        unique_together = [("account", "email")]


class Device(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="devices")
    device_id = models.CharField(max_length=128, unique=True)
    custom_data = models.JSONField(default=dict)
    device = models.JSONField(default=dict)
    online = models.BooleanField(default=False)
    connectable = models.BooleanField(default=True)
    last_active = models.DateTimeField(db_index=True)
    notification_token = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField()


class Session(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sessions")
    session_id = models.CharField(max_length=64, unique=True)
    code = models.CharField(max_length=6, null=True, blank=True, db_index=True)
    state = models.CharField(max_length=20, default="pending", db_index=True)
    custom_data = models.JSONField(default=dict)
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions")
    agent = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    agents = models.ManyToManyField(User, blank=True, related_name="sessions")
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField()
    updated = models.DateTimeField()
    activated = models.DateTimeField(null=True, blank=True)
    ended = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField(null=True, blank=True)
    # Activation time (or creation time if never activated), to the millisecond. The service gives
    # each session of an account its own millisecond; /__sandbox__/sessions/bulk can make ties
    # (same_activated_ms), as the real service can, so clients' paging is tested through them.
    order_at = models.DateTimeField()
    full_device = models.CharField(max_length=10, default="off")
    remote_control = models.CharField(max_length=10, default="off")
    ended_reason = models.CharField(max_length=30, null=True, blank=True)
    control_token = models.CharField(max_length=64, unique=True)
    region = models.CharField(max_length=40, blank=True)
    authorizing_since = models.DateTimeField(null=True, blank=True)
    last_alive = models.DateTimeField(null=True, blank=True)
    # A notified online device joins at this time (CONTRACT 6.6.3).
    join_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-order_at", "-session_id"])]

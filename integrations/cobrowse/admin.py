from django.contrib import admin
from django.db import models

from helpdesk.json_input import JSONFormField

from .models import JwtPolicy, SessionLink


@admin.register(JwtPolicy)
class JwtPolicyAdmin(admin.ModelAdmin):
    list_display = ["team", "enabled", "updated_at", "updated_by"]
    formfield_overrides = {models.JSONField: {"form_class": JSONFormField}}


@admin.register(SessionLink)
class SessionLinkAdmin(admin.ModelAdmin):
    list_display = ["session_id", "ticket", "agent", "state", "created_at", "tagged_at", "end_requested_at", "ended_at"]
    list_filter = ["state"]
    search_fields = ["session_id"]
    raw_id_fields = ["ticket"]

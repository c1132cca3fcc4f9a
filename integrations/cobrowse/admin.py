from django.contrib import admin

from .models import JwtPolicy, SessionLink


@admin.register(JwtPolicy)
class JwtPolicyAdmin(admin.ModelAdmin):
    list_display = ["team", "enabled", "updated_at", "updated_by"]


@admin.register(SessionLink)
class SessionLinkAdmin(admin.ModelAdmin):
    list_display = ["session_id", "ticket", "agent", "state", "created_at", "tagged_at", "end_requested_at", "ended_at"]
    list_filter = ["state"]
    search_fields = ["session_id"]
    raw_id_fields = ["ticket"]

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from helpdesk.access import agent_of

from . import policies
from .models import JwtPolicy, SessionLink


@admin.register(JwtPolicy)
class JwtPolicyAdmin(admin.ModelAdmin):
    """Read-only: a policy changes on the settings page, which validates it and records who changed what.
    Deleting one here goes through the same removal (and Event) as the page's Remove."""

    list_display = ["team", "enabled", "updated_at", "updated_by", "edit_link"]
    fields = ["team", "policy", "enabled", "updated_at", "updated_by", "edit_link"]

    @admin.display(description="Edit")
    def edit_link(self, policy):
        return format_html('<a href="{}">Settings › Policies</a>', reverse("cobrowse_policy_edit", args=[policy.team_id]))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        policies.remove(obj.team, agent_of(request.user))

    def delete_queryset(self, request, queryset):
        for policy in queryset.select_related("team"):
            self.delete_model(request, policy)


@admin.register(SessionLink)
class SessionLinkAdmin(admin.ModelAdmin):
    list_display = ["session_id", "ticket", "agent", "state", "created_at", "tagged_at", "end_requested_at", "ended_at"]
    list_filter = ["state"]
    search_fields = ["session_id"]
    raw_id_fields = ["ticket"]

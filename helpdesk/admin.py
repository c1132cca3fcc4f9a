from django.contrib import admin

from .models import Agent, Conversation, Customer, Event, Message, Team, Ticket


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "team", "role"]
    list_filter = ["role", "team"]
    search_fields = ["display_name", "user__username", "user__email"]
    list_select_related = ["user", "team"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "user_id", "site", "email", "created_at"]
    list_filter = ["site"]
    search_fields = ["name", "user_id", "email"]


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["kind", "author", "body", "created_at"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["ticket", "created_at"]
    inlines = [MessageInline]
    raw_id_fields = ["ticket"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["id", "subject", "status", "priority", "team", "assignee", "customer", "updated_at"]
    list_filter = ["status", "priority", "team", "channel"]
    search_fields = ["subject", "customer__name", "customer__user_id"]
    list_select_related = ["team", "assignee", "customer"]
    raw_id_fields = ["customer"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["created_at", "ticket", "actor", "verb", "data"]
    list_filter = ["verb"]
    list_select_related = ["ticket", "actor"]
    raw_id_fields = ["ticket"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

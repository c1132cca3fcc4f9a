from django.contrib import admin

from .models import Chat, ChatSite


@admin.register(ChatSite)
class ChatSiteAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "team", "created_at"]
    search_fields = ["name", "key"]


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    list_display = ["id", "site", "customer", "state", "customer_connections", "created_at", "closed_at"]
    list_filter = ["state", "site"]
    raw_id_fields = ["customer", "conversation"]
    readonly_fields = ["customer_seen_at", "customer_left_at", "closed_at", "close_reason"]

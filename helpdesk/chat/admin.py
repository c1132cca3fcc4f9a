from django.contrib import admin, messages

from helpdesk.access import agent_of

from . import site_secrets
from .models import Chat, ChatSite

SECRETS_SESSION_KEY = "chat_site_secrets_once"


def _show_once(request, site, secret):
    """Kept in the (server-side) session until the next admin page shows it, then gone."""
    shown = request.session.get(SECRETS_SESSION_KEY, [])
    request.session[SECRETS_SESSION_KEY] = [*shown, {"name": site.name, "key": site.key, "secret": secret}]


def _once(request):
    return {"new_secrets": request.session.pop(SECRETS_SESSION_KEY, [])} if request.method == "GET" else {}


@admin.register(ChatSite)
class ChatSiteAdmin(admin.ModelAdmin):
    """The secret is never listed or editable: it is shown once, after creation or rotation."""

    list_display = ["name", "key", "team", "secret_state", "created_at"]
    search_fields = ["name", "key"]
    actions = ["rotate_secret"]

    @admin.display(description="Secret")
    def secret_state(self, site):
        return "Cannot be decrypted (encryption keys changed?): rotate it" if site_secrets.unreadable(site) else "Set"

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        _show_once(request, obj, site_secrets.create(obj, agent_of(request.user)))

    @admin.action(description="Rotate the secret of the selected sites (the new one is shown once)")
    def rotate_secret(self, request, queryset):
        for site in queryset:
            _show_once(request, site, site_secrets.rotate(site, agent_of(request.user)))
        self.message_user(request, "New secret given; identities signed with the previous one are refused from now on. "
                                   "Give it to the site's backend.", messages.WARNING)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), **_once(request)})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, {**(extra_context or {}), **_once(request)})


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    list_display = ["id", "site", "customer", "state", "customer_connections", "created_at", "closed_at"]
    list_filter = ["state", "site"]
    raw_id_fields = ["customer", "conversation"]
    readonly_fields = ["customer_seen_at", "customer_left_at", "closed_at", "close_reason"]

from django.contrib import admin
from django.db import models

from helpdesk.json_input import JSONFormField

from .models import Delivery, IncomingEndpoint, OutgoingEndpoint


@admin.register(IncomingEndpoint)
class IncomingEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "enabled", "last_used_at"]
    readonly_fields = ["slug", "last_used_at"]


@admin.register(OutgoingEndpoint)
class OutgoingEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "enabled"]
    formfield_overrides = {models.JSONField: {"form_class": JSONFormField}}


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event_type", "endpoint", "state", "attempts", "last_status"]
    list_filter = ["state", "event_type", "endpoint"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

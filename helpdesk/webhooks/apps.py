from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "helpdesk.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

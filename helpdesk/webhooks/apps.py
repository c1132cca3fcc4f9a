from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "helpdesk.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from . import outgoing  # noqa: F401  (connects the Event receiver that creates deliveries)

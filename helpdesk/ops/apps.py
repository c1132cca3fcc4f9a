from django.apps import AppConfig


class OpsConfig(AppConfig):
    """What an operator watches: health and readiness, metrics, task worker heartbeats."""

    name = "helpdesk.ops"
    label = "ops"
    verbose_name = "Operations"

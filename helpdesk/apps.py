from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Helpdesk"

    def ready(self):
        from . import agent_sockets, live  # noqa: F401  (connect the socket-access and live-push receivers)

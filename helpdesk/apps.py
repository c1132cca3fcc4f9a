from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "Helpdesk"

    def ready(self):
        from . import checks  # noqa: F401  (register the system checks)
        from . import agent_sockets, live  # noqa: F401  (connect the socket-access and live-push receivers)
        from .views import sign_in  # noqa: F401  (a successful sign-in resets its own failures)

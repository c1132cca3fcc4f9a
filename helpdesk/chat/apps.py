from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "helpdesk.chat"
    label = "chat"
    verbose_name = "Live chat"

    def ready(self):
        from helpdesk import fragments

        from . import live  # noqa: F401  (connects the receivers that push to widgets and queues)
        from .services import latest_chat

        fragments.register("chat", "chat/_chat_panel.html", lambda ticket: {"chat": latest_chat(ticket)})

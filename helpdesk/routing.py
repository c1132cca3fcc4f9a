"""Websocket routes of the helpdesk."""

from django.urls import path

from . import consumers
from .chat.routing import agent_urlpatterns as chat_agent_urlpatterns

websocket_urlpatterns = [
    path("ws/tickets/<int:ticket_id>/", consumers.TicketConsumer.as_asgi()),
    *chat_agent_urlpatterns,
]

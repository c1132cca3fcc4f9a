"""Chat websocket routes: the widget's (any origin; checked per site) and the agents' queue."""

from django.urls import path

from . import consumers

widget_urlpatterns = [
    path("ws/chat/", consumers.WidgetConsumer.as_asgi()),
]

agent_urlpatterns = [
    path("ws/chats/queue/", consumers.QueueConsumer.as_asgi()),
]

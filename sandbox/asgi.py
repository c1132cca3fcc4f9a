import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from .consumers import AgentSocket  # noqa: E402
from .realtime import DeviceSocket, EmbedSocket  # noqa: E402

websocket_urlpatterns = [
    re_path(r"^sockets/1/ws/?$", AgentSocket.as_asgi()),
    re_path(r"^sockets/embed/?$", EmbedSocket.as_asgi()),
    re_path(r"^sockets/device/?$", DeviceSocket.as_asgi()),
]

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": URLRouter(websocket_urlpatterns),
})

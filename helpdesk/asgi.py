import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import WebsocketDenier  # noqa: E402

from django.urls import re_path  # noqa: E402

from .agent_sockets import SameOriginValidator  # noqa: E402
from .chat.routing import widget_urlpatterns  # noqa: E402
from .routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter([
            # The chat widget runs on customer sites of any origin; each site's origins are checked at hello.
            *widget_urlpatterns,
            re_path(r"^", SameOriginValidator(AuthMiddlewareStack(URLRouter([
                *websocket_urlpatterns,
                re_path(r"^", WebsocketDenier.as_asgi()),  # an unknown path is refused, not an exception
            ])))),
        ]),
    }
)

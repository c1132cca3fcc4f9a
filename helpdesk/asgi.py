import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402

from .asgi_handler import PooledThreadASGIHandler  # noqa: E402

django_asgi_app = PooledThreadASGIHandler(threads=settings.ASGI_HTTP_THREADS)

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

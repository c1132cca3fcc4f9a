import os

import pytest
from django.core.handlers.wsgi import WSGIHandler
from pytest_django.live_server_helper import LiveServer


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, but serving static files as production does: WhiteNoise, from
    STATIC_ROOT. Its own handlers serve them through the finders (source folders, node_modules),
    which know no hashed names, and any file of the working directory (no MEDIA_ROOT is set)."""
    addr = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    server = LiveServer(addr, start=False)
    server.thread.static_handler = lambda _wrapped: WSGIHandler()
    server.start()
    yield server
    server.stop()

"""Agent websockets take the origins a form POST would: the socket's own host and port, or one of
CSRF_TRUSTED_ORIGINS. A page on another port of the same host gets no signed-in socket."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from helpdesk.agent_sockets import origin_allowed
from helpdesk.asgi import application
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "127.0.0.1:8000"


@pytest.mark.parametrize("origin", [
    "http://127.0.0.1:8000", "https://127.0.0.1:8000",
])
def test_the_page_of_the_sockets_own_host_and_port_may_open_it(origin):
    assert origin_allowed(origin, HOST)


@pytest.mark.parametrize("origin", [
    "http://127.0.0.1:9999",  # another service on the same host: the browser sends it the cookie
    "http://127.0.0.1", "http://localhost:8000", "http://evil.example", "http://127.0.0.1:8000.evil.example",
    "null", "", "file://", "127.0.0.1:8000", "ws://127.0.0.1:8000", "http://127.0.0.1:8000@evil.example",
])
def test_a_foreign_origin_may_not(origin):
    assert not origin_allowed(origin, HOST)


def test_trusted_origins_are_allowed_whatever_the_host_header_says(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://help.example.com", "https://*.support.example.com"]
    settings.ALLOWED_HOSTS = ["help.example.com", ".support.example.com"]
    assert origin_allowed("https://help.example.com", "127.0.0.1:8002")  # a proxy that sets its own Host
    assert origin_allowed("https://eu.support.example.com", "127.0.0.1:8002")
    assert not origin_allowed("http://help.example.com", "127.0.0.1:8002")
    assert not origin_allowed("https://help.example.com:4443", "127.0.0.1:8002")


def test_the_origins_host_must_be_an_allowed_host(settings):
    settings.ALLOWED_HOSTS = ["help.example.com"]
    assert origin_allowed("https://help.example.com", "help.example.com")
    assert not origin_allowed("https://other.example.com", "other.example.com")


async def _connect(origin, host=HOST.encode()):
    client = Client()
    user = await sync_to_async(lambda: f.agent(f.team()).user)()
    await sync_to_async(client.force_login)(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    headers = [(b"cookie", cookie), (b"origin", origin.encode()), (b"host", host)]
    ws = WebsocketCommunicator(application, "/ws/chats/queue/", headers=headers)
    connected, _ = await ws.connect()
    await ws.disconnect()
    return connected


async def test_a_signed_in_socket_from_another_port_of_the_host_is_refused():
    assert await _connect("http://127.0.0.1:9999") is False


async def test_a_signed_in_socket_from_the_helpdesks_own_page_opens():
    assert await _connect("http://127.0.0.1:8000") is True


@pytest.mark.parametrize("path", ["/ws/nothing/", "/ws/tickets/abc/", "/" + "x" * 5000])
async def test_a_socket_to_an_unknown_path_is_refused_not_an_exception(path):
    ws = WebsocketCommunicator(application, path, headers=[(b"origin", b"http://localhost")])
    connected, _ = await ws.connect()
    assert connected is False

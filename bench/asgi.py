"""The helpdesk's ASGI app plus a minimal Channels echo consumer, the fan-out baseline."""

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path, re_path

from helpdesk.asgi import application as helpdesk_app


class EchoFanout(AsyncWebsocketConsumer):
    """Every text frame goes to every socket of the group: the same fan-out, no work."""

    async def connect(self):
        await self.channel_layer.group_add("bench-echo", self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard("bench-echo", self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        await self.channel_layer.group_send("bench-echo", {"type": "echo", "text": text_data})

    async def echo(self, event):
        await self.send(text_data=event["text"])


application = ProtocolTypeRouter({
    "http": helpdesk_app.application_mapping["http"],
    "websocket": URLRouter([
        path("ws/bench/echo/", EchoFanout.as_asgi()),
        re_path(r"^", helpdesk_app.application_mapping["websocket"]),
    ]),
})

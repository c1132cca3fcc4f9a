"""The agent websocket /sockets/1/ws: CBOR frames, capability-token subscriptions (CONTRACT 7)."""

import base64
import binascii

import cbor2
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from . import service
from .models import Device, Session, User

AUTH_PREFIX = "cbio.http.headers.authorization.bearer."


def _token_from_protocols(protocols):
    for protocol in protocols:
        if protocol.startswith(AUTH_PREFIX):
            b64 = protocol[len(AUTH_PREFIX):]
            try:
                return base64.b64decode(b64 + "=" * (-len(b64) % 4)).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
    return None


@database_sync_to_async
def _user(notification_token):
    return User.objects.filter(notification_token=notification_token).select_related("account").first()


@database_sync_to_async
def _resolve(account_id, token_value):
    """A session's control_token or a device's notification_token, in this account."""
    if Session.objects.filter(account_id=account_id, control_token=token_value).exists():
        return "session", None
    device = Device.objects.filter(account_id=account_id, notification_token=token_value).first()
    return ("device", device) if device else (None, None)


@database_sync_to_async
def _presence(account_id, device_id):
    device = Device.objects.filter(account_id=account_id, device_id=device_id).first()
    return (device.notification_token, service.presence_json(device)) if device else (None, None)


class AgentSocket(AsyncWebsocketConsumer):
    async def connect(self):
        self.groups_joined = set()
        self.user = None
        token_value = _token_from_protocols(self.scope.get("subprotocols") or [])
        user = await _user(token_value) if token_value else None
        if user is None or "cbor" not in (self.scope.get("subprotocols") or []):
            # Refused before the upgrade completes (daphne answers the handshake with 403).
            await self.close()
            return
        self.user = user
        await self.accept(subprotocol="cbor")

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is None:
            return
        try:
            message = cbor2.loads(bytes_data)
        except Exception:
            return
        if not isinstance(message, dict):
            return
        event, data = message.get("event"), message.get("data")
        if event == "subscribe" and isinstance(data, str):
            kind, _ = await _resolve(self.user.account_id, data)
            if kind:
                group = f"tok-{data}"
                self.groups_joined.add(group)
                await self.channel_layer.group_add(group, self.channel_name)
        elif event == "sync-presence" and isinstance(data, str):
            token_value, presence = await _presence(self.user.account_id, data)
            if token_value and f"tok-{token_value}" in self.groups_joined:
                await self._send("presence", presence)
        if isinstance(message.get("id"), int):
            await self.send(bytes_data=cbor2.dumps({"ack": message["id"]}))

    async def _send(self, event, data):
        await self.send(bytes_data=cbor2.dumps({"event": event, "data": data}))

    async def push(self, message):
        await self._send(message["event"], message["data"])

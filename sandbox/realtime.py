"""Websockets of the embeds and of the simulated customer device (sandbox-internal JSON protocols).

Embed socket  /sockets/embed/?token=JWT     agent side: session pushes, the device's page mirror,
                                            and the agent's tools (laser, drawing) to the device.
Device socket /sockets/device/?license_key=&device_id=&user_id=&name=
                                            device side: presence, code requests, consent answers,
                                            mirror frames up, agent tools down.
"""

import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from . import service
from .auth import caller_from_token
from .errors import ApiError
from .models import Account, Device, Session

MAX_FRAME = 512 * 1024


def _query(scope):
    return {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}


def device_group(device_id):
    return f"device-{device_id}"


def mirror_group(session_id):
    return f"mirror-{session_id}"


class EmbedSocket(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.joined = set()
        try:
            self.caller = await database_sync_to_async(caller_from_token)(_query(self.scope).get("token", ""))
        except ApiError:
            await self.close(code=4401)
            return
        await self.accept()

    async def disconnect(self, code):
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _join(self, group):
        if group not in self.joined:
            self.joined.add(group)
            await self.channel_layer.group_add(group, self.channel_name)

    async def receive_json(self, message, **kwargs):
        kind = message.get("type")
        if kind == "watch":
            found = await self._session(message.get("session_id"))
            if found:
                session_id, control_token, _ = found
                await self._join(f"tok-{control_token}")
                await self._join(mirror_group(session_id))
                if found[2]:
                    await self.channel_layer.group_send(device_group(found[2]), {"type": "want.frame"})
        elif kind == "tool":
            found = await self._session(message.get("session_id"), write=True)
            if found and found[2]:
                await self.channel_layer.group_send(device_group(found[2]), {
                    "type": "agent.tool", "session_id": found[0], "tool": message.get("tool"),
                    "data": message.get("data")})

    @database_sync_to_async
    def _session(self, session_id, write=False):
        s = Session.objects.select_related("device").filter(
            account=self.caller.account, session_id=str(session_id or "")).first()
        if s is None:
            return None
        try:
            service.check_session_access(self.caller, s)
            if write:  # the tools act on the customer's page: a read-only token only watches
                service.check_session_write(self.caller, s)
        except ApiError:
            return None
        return s.session_id, s.control_token, s.device.device_id if s.device_id else None

    async def push(self, message):
        await self.send_json({"type": message["event"], "data": message["data"]})

    async def mirror_frame(self, message):
        await self.send_json({"type": "frame", "data": message["data"]})

    async def want_frame(self, message):
        pass

    async def agent_tool(self, message):
        pass


class DeviceSocket(AsyncJsonWebsocketConsumer):
    async def connect(self):
        query = _query(self.scope)
        self.device = await self._register(query)
        if self.device is None:
            await self.close(code=4404)
            return
        self.group = device_group(self.device.device_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.mirrors = set()
        await self.accept()
        await self.send_json({"type": "device", "data": {"id": self.device.device_id,
                                                         "custom_data": self.device.custom_data}})
        for session in await self._open_sessions():
            await self.send_json({"type": "session", "data": session})

    @database_sync_to_async
    def _register(self, query):
        license_key = query.get("license_key") or _demo_license()
        account = Account.objects.filter(license_key=license_key).first()
        if account is None:
            return None
        custom_data = {k: v for k, v in (("user_id", query.get("user_id")), ("user_name", query.get("name"))) if v}
        device = service.register_device(account, device_id=query.get("device_id") or None,
                                         custom_data=custom_data, device=None, online=True)
        service.set_device_online(device, True)
        return device

    @database_sync_to_async
    def _open_sessions(self):
        qs = Session.objects.select_related("account", "agent", "device").filter(
            device=self.device).exclude(state="ended").order_by("-created")[:3]
        return [service.session_json(s) for s in qs]

    async def disconnect(self, code):
        if getattr(self, "device", None) is None:
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        await database_sync_to_async(_set_offline)(self.device.pk)

    async def receive_json(self, message, **kwargs):
        kind = message.get("type")
        if kind == "code":
            session = await database_sync_to_async(_code_session)(self.device.pk)
            await self.send_json({"type": "session", "data": session})
        elif kind == "action":
            error = await database_sync_to_async(_device_action)(self.device.pk, message.get("session_id"),
                                                                   message.get("action"))
            if error:
                await self.send_json({"type": "error", "message": error})
        elif kind == "frame":
            session_id = str(message.get("session_id") or "")
            data = message.get("data")
            if len(json.dumps(data)) <= MAX_FRAME and await database_sync_to_async(_is_active)(self.device.pk, session_id):
                await self.channel_layer.group_send(mirror_group(session_id), {"type": "mirror.frame", "data": data})

    async def push(self, message):
        await self.send_json({"type": message["event"], "data": message["data"]})

    async def agent_tool(self, message):
        await self.send_json({"type": "tool", "session_id": message["session_id"], "tool": message["tool"],
                              "data": message.get("data")})

    async def want_frame(self, message):
        await self.send_json({"type": "want_frame"})


def _demo_license():
    path = settings.SANDBOX_KEYS_DIR / "license_key.txt"
    return path.read_text().strip() if path.exists() else ""


def _set_offline(device_pk):
    device = Device.objects.filter(pk=device_pk).first()
    if device is not None:
        service.set_device_online(device, False)


def _code_session(device_pk):
    device = Device.objects.select_related("account").get(pk=device_pk)
    s = service.create_session(device.account, device=device, custom_data=device.custom_data)
    return service.session_json(Session.objects.select_related("account", "agent", "device").get(pk=s.pk))


def _device_action(device_pk, session_id, action):
    s = Session.objects.filter(device_id=device_pk, session_id=str(session_id or "")).first()
    if s is None:
        return "unknown session"
    try:
        service.device_action(s, action)
    except ApiError as exc:
        return exc.message
    return None


def _is_active(device_pk, session_id):
    return Session.objects.filter(device_id=device_pk, session_id=session_id, state="active").exists()

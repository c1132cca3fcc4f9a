"""Session and device behaviour of the sandbox, shared by the REST API, the control API, the
embeds and the simulated device. Every change goes through here and is pushed from here."""

import random
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from . import policy as policies
from . import runtime
from .errors import ApiError, forbidden, invalid, not_found
from .models import COLOURS, Device, Session, new_id, token

STATES = ("pending", "authorizing", "active", "ended")
SUB_STATES = ("off", "requested", "rejected", "on")
# Called with the session after every change (the embeds and the device page listen).
session_listeners = []
device_listeners = []


# --- JSON shapes (CONTRACT 2) ----------------------------------------------------------------

def agent_json(user, account):
    data = {"id": user.user_id, "name": user.name, "colour": user.colour, "picture": None}
    if not account.setting("hide_agent_emails"):
        data["email"] = user.email
    return data


def session_json(s, agents=None):
    agents = [agent_json(u, s.account) for u in (s.agents.all() if agents is None else agents)]
    return {
        "id": s.session_id, "code": s.code if s.state == "pending" else None, "state": s.state,
        "custom_data": s.custom_data or {}, "device": s.device.device if s.device_id else None,
        # Written by the service (never by the device), so an agent can look up who the device is.
        "device_id": s.device.device_id if s.device_id else None,
        "agent": agent_json(s.agent, s.account) if s.agent_id else None, "agents": agents,
        "created": runtime.iso(s.created), "updated": runtime.iso(s.updated),
        "activated": runtime.iso(s.activated), "ended": runtime.iso(s.ended), "expires": runtime.iso(s.expires),
        "full_device": s.full_device, "remote_control": s.remote_control, "calling": "off", "virtual": False,
        "recorded": bool(s.account.setting("record_sessions")), "ended_reason": s.ended_reason,
        "colours": COLOURS, "control_token": s.control_token, "region": s.region or None,
    }


def device_json(d):
    return {
        "id": d.device_id, "custom_data": d.custom_data or {}, "device": d.device or {},
        "last_active": runtime.iso(d.last_active), "connectable": d.connectable,
        "notification_token": d.notification_token, "created": runtime.iso(d.created), "online": d.online,
    }


def user_json(u):
    return {"id": u.user_id, "email": u.email, "name": u.name, "role": u.role, "colour": u.colour,
            "notification_token": u.notification_token, "notification_url": f"{settings.SANDBOX_PUBLIC_URL}/"}


def presence_json(d):
    return {"id": d.device_id, "present": d.online, "last_seen": runtime.iso(d.last_active)}


# --- pushes ----------------------------------------------------------------------------------

def _send(token_value, event, data):
    async_to_sync(get_channel_layer().group_send)(f"tok-{token_value}", {"type": "push", "event": event, "data": data})


def push_session(s):
    data = session_json(s)
    _send(s.control_token, "session", data)
    if s.device_id:
        # The simulated device page follows its own sessions (sandbox/realtime.py).
        async_to_sync(get_channel_layer().group_send)(
            f"device-{s.device.device_id}", {"type": "push", "event": "session", "data": data})
    for listener in session_listeners:
        listener(s, data)


def push_device(d, presence=False):
    _send(d.notification_token, "presence" if presence else "device", presence_json(d) if presence else device_json(d))
    for listener in device_listeners:
        listener(d)


def _after_commit_push(s):
    transaction.on_commit(lambda: push_session(Session.objects.select_related("account", "agent", "device").get(pk=s.pk)))


# --- sessions --------------------------------------------------------------------------------

def _ms(value):
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def unique_order_at(account, when, exclude_pk=None):
    when = _ms(when)
    taken = Session.objects.filter(account=account)
    if exclude_pk:
        taken = taken.exclude(pk=exclude_pk)
    while taken.filter(order_at=when).exists():
        when += timedelta(milliseconds=1)
    return when


def _new_code(account):
    while True:
        code = f"{random.randrange(0, 10**6):06d}"
        if not Session.objects.filter(account=account, code=code, state="pending").exists():
            return code


@transaction.atomic
def create_session(account, *, custom_data=None, agent=None, created_by=None, device=None, region=""):
    now = runtime.now()
    s = Session.objects.create(
        account=account, session_id=new_id("ses"), code=_new_code(account), state="pending",
        custom_data=dict(custom_data or (device.custom_data if device else {}) or {}), device=device,
        agent=agent, created_by=created_by or agent, created=now, updated=now,
        expires=now + timedelta(seconds=settings.SANDBOX_CODE_LIFETIME),
        order_at=unique_order_at(account, now), control_token=token("ct"), region=region or "",
    )
    if agent:
        s.agents.add(agent)
    _after_commit_push(s)
    return s


def add_agent(s, user):
    if s.agent_id is None:
        s.agent = user
    s.agents.add(user)


def _touch(s, now=None):
    s.updated = max(_ms(now or runtime.now()), s.updated + timedelta(milliseconds=1))


def _transition(s, state, *, reason=None, now=None):
    now = now or runtime.now()
    s.state = state
    _touch(s, now)
    if state != "pending":
        s.expires = None
    if state == "authorizing":
        s.authorizing_since = now
    if state == "active" and s.activated is None:
        s.activated = now
        s.last_alive = now
        s.order_at = unique_order_at(s.account, now, exclude_pk=s.pk)
    if state == "ended":
        s.ended = now
        s.ended_reason = reason
        s.full_device = s.remote_control = "off"


@transaction.atomic
def end_session(s, reason):
    s = Session.objects.select_for_update().get(pk=s.pk)
    if s.state == "ended":
        return s
    _transition(s, "ended", reason=reason)
    s.save()
    _after_commit_push(s)
    return s


@transaction.atomic
def device_join(s, device=None):
    """The device joins a pending session (after a code or a push notification)."""
    s = Session.objects.select_for_update().select_related("account").get(pk=s.pk)
    if s.state != "pending":
        raise invalid("invalid_state", "session is not pending")
    if device is not None:
        s.device = device
    consent = s.account.setting("consent_required")
    _transition(s, "authorizing" if consent else "active")
    s.save()
    _after_commit_push(s)
    return s


DEVICE_ACTIONS = {
    "join", "accept", "decline", "end", "heartbeat",
    "full_device_accept", "full_device_reject", "full_device_off",
    "remote_control_accept", "remote_control_reject", "remote_control_off",
}


@transaction.atomic
def device_action(s, action):
    """What the customer's device does to a session (consent, answers, end, heartbeat)."""
    if action not in DEVICE_ACTIONS:
        raise invalid("invalid_request", f"unknown action {action!r}")
    if action == "join":
        return device_join(s)
    s = Session.objects.select_for_update().select_related("account").get(pk=s.pk)
    if s.state == "ended":
        raise invalid("session_ended", "session has ended")
    now = runtime.now()
    if action == "heartbeat":
        s.last_alive = now
        s.save(update_fields=["last_alive"])
        return s
    if action == "accept":
        if s.state != "authorizing":
            raise invalid("invalid_state", "session is not waiting for consent")
        _transition(s, "active", now=now)
    elif action == "decline":
        _transition(s, "ended", reason="device_ended", now=now)
    elif action == "end":
        _transition(s, "ended", reason="device_ended", now=now)
    else:
        field, answer = action.rsplit("_", 1)
        if answer in ("accept", "reject") and getattr(s, field) != "requested":
            raise invalid("invalid_state", f"{field} was not requested")
        setattr(s, field, {"accept": "on", "reject": "rejected", "off": "off"}[answer])
        _touch(s, now)
    s.last_alive = now
    s.save()
    _after_commit_push(s)
    return s


def _validate_sub_state(s, field, value):
    if value not in ("requested", "off"):
        raise invalid("invalid_state", f"{field} can only be set to requested or off by an agent")
    feature = {"full_device": "full_device", "remote_control": "remote_control"}[field]
    if value == "requested" and not s.account.setting(feature):
        raise ApiError(403, "feature_disabled", f"{field.replace('_', ' ')} is disabled for this account")
    if s.state != "active":
        raise invalid("invalid_state", f"{field} can only change while the session is active")


def _check_custom_data(value):
    if not isinstance(value, dict):
        raise invalid("invalid_request", "custom_data must be an object")
    for key, item in value.items():
        if not isinstance(key, str) or not (item is None or isinstance(item, (str, int, float, bool))):
            raise invalid("invalid_request", "custom_data values must be strings, numbers, booleans or null")


@transaction.atomic
def update_session(caller, s, changes):
    """An agent's PUT /api/1/sessions/<id> (and the embed's update:session)."""
    if not isinstance(changes, dict):
        raise invalid("invalid_request", "body must be a JSON object")
    s = Session.objects.select_for_update().select_related("account", "device").get(pk=s.pk)
    check_session_write(caller, s)
    if "id" in changes and changes["id"] != s.session_id:
        raise invalid("invalid_request", "id does not match the session")
    writable = {k: v for k, v in changes.items() if k in ("state", "custom_data", "agent", "full_device", "remote_control")}
    if s.state == "ended":
        if writable and set(writable) != {"state"} or writable.get("state", "ended") != "ended":
            raise invalid("session_ended", "session has ended")
        return s
    if "state" in writable and writable["state"] != "ended":
        raise invalid("invalid_state", "state can only be set to ended")
    if "custom_data" in writable:
        _check_custom_data(writable["custom_data"])
        merged = {**(s.custom_data or {}), **writable["custom_data"]}
        if not policies.matches(caller.policy, "sessions", s.session_id, merged, verb="write"):
            raise forbidden()
    if "agent" in writable and writable["agent"] != "me":
        raise invalid("invalid_request", "agent can only be set to me")
    for field in ("full_device", "remote_control"):
        if field in writable:
            _validate_sub_state(s, field, writable[field])
    now = runtime.now()
    if "custom_data" in writable:
        s.custom_data = {**(s.custom_data or {}), **writable["custom_data"]}
    if writable.get("agent") == "me":
        add_agent(s, caller.user)
        if s.state == "pending" and s.device_id and s.device.online:
            # The device waiting on its code sees the agent arrive and joins (as a real one does).
            s.join_at = now
    for field in ("full_device", "remote_control"):
        if field in writable:
            setattr(s, field, writable[field])
            if writable[field] == "requested" and not s.account.setting(f"{field}_consent" if field == "remote_control" else "consent_required"):
                setattr(s, field, "on")
    if writable.get("state") == "ended":
        _transition(s, "ended", reason="agent_ended", now=now)
    _touch(s, now)
    s.last_alive = now if s.state == "active" else s.last_alive
    s.save()
    _after_commit_push(s)
    return s


# --- access rules (CONTRACT 4.4 and 5.3) -------------------------------------------------------

def is_callers(caller, s):
    uid = caller.user.pk
    return s.agent_id == uid or s.created_by_id == uid or s.agents.filter(pk=uid).exists()


def check_session_access(caller, s, by_code=False):
    # A session no agent has claimed yet (a device's code session) is open to the account's
    # agents, as it is when resolved by its code; a claimed one only to its agents.
    unclaimed = s.agent_id is None and s.state != "ended"
    role_allows = caller.is_admin or caller.is_custom or by_code or unclaimed or is_callers(caller, s)
    if not role_allows:
        raise forbidden("this session belongs to another agent")
    if not policies.matches(caller.policy, "sessions", s.session_id, s.custom_data):
        raise forbidden()


def check_session_write(caller, s):
    """Any change to a session (PUT, the embed's tools) needs `write` on it (CONTRACT 5.2)."""
    if not policies.matches(caller.policy, "sessions", s.session_id, s.custom_data, verb="write"):
        raise forbidden("policy does not allow changing this session")


def find_session(caller, id_or_code):
    qs = Session.objects.select_related("account", "agent", "device").filter(account=caller.account)
    if len(id_or_code) == 6 and id_or_code.isdigit():
        s = qs.filter(code=id_or_code, state="pending", expires__gt=runtime.now()).first()
        if s is None:
            raise not_found("session not found")
        check_session_access(caller, s, by_code=True)
        return s
    s = qs.filter(session_id=id_or_code).first()
    if s is None:
        raise not_found("session not found")
    check_session_access(caller, s)
    return s


# --- devices ---------------------------------------------------------------------------------

def register_device(account, *, device_id=None, custom_data=None, device=None, online=False, connectable=True):
    now = runtime.now()
    d, created = Device.objects.get_or_create(
        device_id=device_id or new_id("dev"),
        defaults={"account": account, "custom_data": custom_data or {}, "device": device or default_device_info(),
                  "online": online, "connectable": connectable, "last_active": now, "created": now,
                  "notification_token": token("dn")},
    )
    if not created:
        d.custom_data = custom_data if custom_data is not None else d.custom_data
        d.device = device or d.device
        d.online = online
        d.last_active = now
        d.save()
    transaction.on_commit(lambda: push_device(d))
    return d


def default_device_info():
    return {"app_id": "shop.example.com", "app_name": "Example Shop", "device": "Chrome Browser",
            "device_locale": "en-GB", "device_timezone": "Europe/London", "os_version": "Linux",
            "platform": "web", "sdk_version": "2.40.0", "full_device_control": False}


def set_device_online(d, online):
    d.online = online
    d.last_active = runtime.now()
    d.save(update_fields=["online", "last_active"])
    if online:
        Session.objects.filter(device=d, state="active").update(last_alive=d.last_active)
    transaction.on_commit(lambda: push_device(d, presence=True))


def notify_device(s, d):
    """A push notification to the device: an online device joins after a short delay."""
    if not d.online or not d.connectable:
        return False
    s.device = d
    s.join_at = runtime.now() + timedelta(seconds=settings.SANDBOX_NOTIFY_JOIN_DELAY)
    s.save(update_fields=["device", "join_at"])
    return True


# --- timeouts (CONTRACT 3.2) -----------------------------------------------------------------

def sweep():
    """End sessions whose time ran out. Cheap when nothing is due."""
    now = runtime.now()
    for s in Session.objects.filter(state="pending", join_at__lte=now, expires__gt=now):
        Session.objects.filter(pk=s.pk).update(join_at=None)
        device_join(s)
    due = []
    due += [(s, "pending_timeout") for s in Session.objects.filter(state="pending", expires__lte=now)]
    due += [(s, "authorizing_timeout") for s in Session.objects.filter(
        state="authorizing", authorizing_since__lte=now - timedelta(seconds=settings.SANDBOX_AUTHORIZING_TIMEOUT))]
    # A device that keeps its presence socket open is alive.
    Session.objects.filter(state="active", device__online=True).update(last_alive=now)
    due += [(s, "active_timeout") for s in Session.objects.filter(
        state="active", last_alive__lte=now - timedelta(seconds=settings.SANDBOX_ACTIVE_TIMEOUT))]
    for s, reason in due:
        with transaction.atomic():
            fresh = Session.objects.select_for_update().get(pk=s.pk)
            if fresh.state == "ended":
                continue
            _transition(fresh, "ended", reason=reason, now=now)
            fresh.save()
            _after_commit_push(fresh)
    return len(due)

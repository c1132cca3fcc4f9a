"""The sandbox-only test-control API under /__sandbox__/ (CONTRACT 6.14; never called by the SDK)."""

import json
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import transaction
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import runtime, service
from .errors import ApiError, invalid, not_found
from .http import json_error
from .models import Account, Device, Session, User, new_id, token


def control(*methods):
    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not settings.SANDBOX_CONTROL_API:
                raise Http404("control API is off")
            if request.method not in methods:
                return json_error(405, "method_not_allowed", f"{request.method} is not allowed here")
            try:
                body = json.loads(request.body) if request.body else {}
                if not isinstance(body, dict):
                    raise invalid("invalid_request", "body must be a JSON object")
                return JsonResponse(view(request, body, *args, **kwargs), safe=False)
            except (ValueError, RecursionError):  # RecursionError: nested too deeply
                return json_error(400, "invalid_request", "body is not valid JSON")
            except ApiError as exc:
                return json_error(exc.status, exc.error_id, exc.message)
        return wrapper
    return decorate


def _account(body):
    account = Account.objects.filter(license_key=body.get("license_key")).first()
    if account is None:
        raise not_found("unknown license_key")
    return account


def _session(session_id):
    s = Session.objects.select_related("account", "agent", "device").filter(session_id=session_id).first()
    if s is None:
        raise not_found("session not found")
    return s


@control("POST")
def accounts(request, body):
    if not isinstance(body.get("license_key"), str) or not body["license_key"]:
        raise invalid("invalid_request", "license_key is required")
    account, _ = Account.objects.update_or_create(license_key=body["license_key"], defaults={
        "public_keys": list(body.get("public_keys") or []), "settings": dict(body.get("settings") or {}),
        "created": runtime.now()})
    return {"license_key": account.license_key, "settings": {**account.settings}, "public_keys": len(account.public_keys)}


@control("POST")
def devices(request, body):
    account = _account(body)
    d = service.register_device(account, device_id=body.get("id"), custom_data=body.get("custom_data") or {},
                                device=body.get("device"), online=bool(body.get("online", True)),
                                connectable=bool(body.get("connectable", True)))
    return service.device_json(d)


@control("PATCH", "POST")
def device_detail(request, body, device_id):
    d = Device.objects.filter(device_id=device_id).first()
    if d is None:
        raise not_found("device not found")
    if "custom_data" in body:
        service._check_custom_data(body["custom_data"])
        d.custom_data = body["custom_data"]
        d.save(update_fields=["custom_data"])
        transaction.on_commit(lambda: service.push_device(d))
    if "last_active" in body:
        d.last_active = runtime.now() - timedelta(seconds=float(body["last_active"]))
        d.save(update_fields=["last_active"])
    if "online" in body and bool(body["online"]) != d.online:
        service.set_device_online(d, bool(body["online"]))
    return service.device_json(d)


@control("POST")
def device_code(request, body, device_id):
    d = Device.objects.filter(device_id=device_id).select_related("account").first()
    if d is None:
        raise not_found("device not found")
    s = service.create_session(d.account, device=d, custom_data=d.custom_data)
    return service.session_json(_session(s.session_id))


@control("POST")
def device_action(request, body, session_id):
    service.device_action(_session(session_id), body.get("action"))
    return service.session_json(_session(session_id))


@control("GET")
def session_raw(request, body, session_id):
    s = _session(session_id)
    return {**service.session_json(s), "device_id": s.device.device_id if s.device_id else None,
            "last_alive": runtime.iso(s.last_alive)}


@control("POST")
def sessions_bulk(request, body):
    """Many active sessions at once (for counting and paging tests and benchmarks). With
    `same_activated_ms: k`, every k consecutive sessions share one activation millisecond (the
    real service can give several sessions the same one), so paging is tested through ties."""
    account = _account(body)
    count = int(body.get("count", 0))
    if not 0 < count <= 100_000:
        raise invalid("invalid_request", "count must be between 1 and 100000")
    per_ms = body.get("same_activated_ms", 1)
    if type(per_ms) is not int or not 0 < per_ms <= count:
        raise invalid("invalid_request", "same_activated_ms must be an integer between 1 and count")
    now = runtime.now()
    agent = None
    if body.get("agent_email"):
        agent, _ = User.objects.get_or_create(account=account, email=body["agent_email"], defaults={
            "name": body["agent_email"], "user_id": new_id("usr"), "notification_token": token("nt")})
    last = Session.objects.filter(account=account).order_by("-order_at").values_list("order_at", flat=True).first()
    spread = -(-count // per_ms)  # milliseconds used
    start = max(now - timedelta(milliseconds=spread + 1), (last or now) + timedelta(milliseconds=1))
    start = start.replace(microsecond=start.microsecond // 1000 * 1000)
    rows = []
    for i in range(count):
        at = start + timedelta(milliseconds=i // per_ms)
        rows.append(Session(
            account=account, session_id=new_id("ses"), state=body.get("state", "active"),
            custom_data=dict(body.get("custom_data") or {}), agent=agent, created_by=agent, created=at, updated=at,
            activated=at, order_at=at, control_token=token("ct"), last_alive=now + timedelta(days=1),  # bulk sessions have no device: keep them alive a day
        ))
    Session.objects.bulk_create(rows, batch_size=2000)
    return {"created": count}


@control("POST")
def clock(request, body):
    runtime.advance(float(body.get("advance_seconds", 0)))
    swept = service.sweep()
    return {"now": runtime.iso(runtime.now()), "ended": swept}


@control("POST")
def reset(request, body):
    runtime.reset()
    Session.objects.all().delete()
    Device.objects.all().delete()
    User.objects.all().delete()
    keep = body.get("keep_license_keys") or []
    Account.objects.exclude(license_key__in=keep).delete()
    return {"reset": True}


@control("POST", "DELETE")
def faults(request, body):
    if request.method == "DELETE":
        runtime.clear_faults()
        return {"faults": []}
    mode = body.get("mode")
    if mode not in ("503", "hang", "expired_token"):
        raise invalid("invalid_request", "mode must be 503, hang or expired_token")
    runtime.add_fault(mode, seconds=body.get("seconds"), count=body.get("count"),
                      path_prefix=body.get("path_prefix") or "/api/1/")
    return {"mode": mode}


@control("GET")
def stats(request, body):
    return dict(runtime.stats)

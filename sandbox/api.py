"""The REST API the official agent SDK calls: /api/1/... (CONTRACT 6)."""

from datetime import datetime
from functools import wraps
from types import SimpleNamespace

from django.db import connection
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import policy as policies
from . import runtime, service
from .auth import caller_from_request
from .errors import ApiError, forbidden, invalid, not_found
from .http import json_error, read_json
from .models import Account, Device, Session, User

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


def api(*methods):
    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                return json_error(405, "method_not_allowed", f"{request.method} is not allowed here")
            try:
                caller = caller_from_request(request)
                result = view(request, caller, *args, **kwargs)
            except ApiError as exc:
                return json_error(exc.status, exc.error_id, exc.message)
            return JsonResponse(result, safe=False, json_dumps_params={"separators": (",", ":")})
        return wrapper
    return decorate


# --- query parsing ----------------------------------------------------------------------------

def many(request, name):
    """A list parameter in any of the SDK's forms: name=v, name[]=v, repeated."""
    values = request.GET.getlist(name) + request.GET.getlist(f"{name}[]")
    return [v for v in values if v != ""]


def parse_date(request, name):
    raw = request.GET.get(name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise invalid("invalid_query", f"{name} is not an ISO-8601 date") from None


def parse_limit(request):
    raw = request.GET.get("limit")
    if raw in (None, ""):
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise invalid("invalid_query", "limit must be an integer") from None
    if value < 1:
        raise invalid("invalid_query", "limit must be at least 1")
    return min(value, MAX_LIMIT)


def custom_filters(request):
    filters = {}
    for key in request.GET:
        if key.startswith("filter_"):
            name = key[len("filter_"):].removesuffix("[]")
            filters.setdefault(name, []).extend(request.GET.getlist(key))
    return filters


def matches_filters(custom_data, filters):
    data = custom_data or {}
    return all(key in data and str(data[key]) in values for key, values in filters.items())


# --- sessions ---------------------------------------------------------------------------------

@api("GET", "POST")
def sessions(request, caller):
    if request.method == "POST":
        return create_session(request, caller)
    states = many(request, "state")
    if any(s not in service.STATES for s in states):
        raise invalid("invalid_query", "state must be one of pending, authorizing, active, ended")
    limit = parse_limit(request)
    before, after = parse_date(request, "activated_before"), parse_date(request, "activated_after")
    qs = Session.objects.filter(account=caller.account)
    agent = request.GET.get("agent") or "me"
    if agent == "all":
        if not caller.is_admin:
            raise forbidden("administrator role required to list sessions for all agents")
    else:
        user = caller.user if agent == "me" else User.objects.filter(account=caller.account, user_id=agent).first()
        if user is None:
            return []
        if user != caller.user and not caller.is_admin:
            raise forbidden("administrator role required to list sessions of other agents")
        qs = qs.filter(Q(agent=user) | Q(created_by=user) | Q(agents=user)).distinct()
    if states:
        qs = qs.filter(state__in=states)
    if before:
        qs = qs.filter(order_at__lt=before)
    if after:
        qs = qs.filter(order_at__gt=after)
    if not policies.allows_type(caller.policy, "sessions"):
        return []
    filters = custom_filters(request)
    qs = _listing_values(qs.order_by("-order_at", "-session_id"))
    if not filters and caller.policy is None:
        rows = list(qs[:limit])
    else:
        rows = []
        # custom_data filters and policies apply in Python (JSON in SQLite); stop at the limit.
        for row in qs.iterator(chunk_size=2000):
            if filters and not matches_filters(row["custom_data"], filters):
                continue
            if not policies.matches(caller.policy, "sessions", row["session_id"], row["custom_data"]):
                continue
            rows.append(row)
            if len(rows) >= limit:
                break
    return [service.session_json(s, agents) for s, agents in _listed(rows, caller.account)]


# What session_json reads. A page is read as rows, not model instances: building 1,000 instances
# (and their joins) costs more than the page's query; agents and devices are read once each.
LISTED = ("id", "session_id", "code", "state", "custom_data", "device_id", "agent_id", "created", "updated",
          "activated", "ended", "expires", "full_device", "remote_control", "ended_reason", "control_token",
          "region")


LISTED_DATES = ("created", "updated", "activated", "ended", "expires")


def _listing_values(qs):
    """The page's rows. On SQLite the dates are read as the text they are stored as (UTC) and
    written out as the API's ISO form directly: parsing 5,000 datetimes and formatting them again
    took a third of a 1,000-session page."""
    if connection.vendor != "sqlite":
        return qs.values(*LISTED)
    texts = {f"{name}_stored": Cast(name, TextField()) for name in LISTED_DATES}
    return qs.annotate(**texts).values(*(f for f in LISTED if f not in LISTED_DATES), *texts)


def _row_dates(row):
    """A row's dates as session_json wants them: datetimes, or (SQLite) already in the API's form."""
    for name in LISTED_DATES:
        if f"{name}_stored" in row:
            row[name] = runtime.iso_from_stored(row.pop(f"{name}_stored"))
    return row


def _chunks(values, size=500):
    values = list(values)
    return (values[start:start + size] for start in range(0, len(values), size))


def _listed(rows, account):
    """(session record, its agents) for session_json, in a few queries per 500 sessions."""
    through, agents, users, devices = Session.agents.through, {}, {}, {}
    for chunk in _chunks(row["id"] for row in rows):
        for link in through.objects.filter(session_id__in=chunk).select_related("user").order_by("pk"):
            agents.setdefault(link.session_id, []).append(link.user)
    for chunk in _chunks({row["agent_id"] for row in rows} - {None}):
        users.update((u.pk, u) for u in User.objects.filter(pk__in=chunk))
    for chunk in _chunks({row["device_id"] for row in rows} - {None}):
        devices.update((d.pk, d) for d in Device.objects.filter(pk__in=chunk))
    for row in rows:
        record = SimpleNamespace(**_row_dates(row), account=account, agent=users.get(row["agent_id"]),
                                 device=devices.get(row["device_id"]))
        yield record, agents.get(row["id"], ())


def create_session(request, caller):
    body = read_json(request)
    if not isinstance(body, dict):
        raise invalid("invalid_request", "body must be a JSON object")
    custom_data = body.get("custom_data") or {}
    service._check_custom_data(custom_data)
    if not policies.matches(caller.policy, "sessions", None, custom_data, verb="write") or (
            caller.policy is not None and "id" in (caller.policy.get("sessions") or {})):
        raise forbidden()
    agent = caller.user if body.get("agent") == "me" else None
    s = service.create_session(caller.account, custom_data=custom_data, agent=agent, created_by=caller.user,
                               region=str(body.get("region") or ""))
    return service.session_json(Session.objects.select_related("account", "agent").get(pk=s.pk))


@api("GET", "PUT")
def session_detail(request, caller, id_or_code):
    s = service.find_session(caller, id_or_code)
    if request.method == "PUT":
        s = service.update_session(caller, s, read_json(request))
        s = Session.objects.select_related("account", "agent", "device").get(pk=s.pk)
    return service.session_json(s)


@api("GET", "DELETE")
def session_recording(request, caller, session_id):
    service.find_session(caller, session_id)
    raise not_found("recording not found")


@api("GET")
def session_tokens(request, caller, session_id):
    s = service.find_session(caller, session_id)
    return {"stream_token": f"st.{s.control_token}", "stream_url": f"{request.build_absolute_uri('/')}"}


# --- devices ----------------------------------------------------------------------------------

@api("GET")
def devices(request, caller):
    if not caller.account.setting("device_listing"):
        raise forbidden("device listing is disabled")
    limit = parse_limit(request)
    before, after = parse_date(request, "seen_before"), parse_date(request, "seen_after")
    if not policies.allows_type(caller.policy, "devices"):
        return []
    qs = Device.objects.filter(account=caller.account).order_by("-last_active", "device_id")
    if before:
        qs = qs.filter(last_active__lt=before)
    if after:
        qs = qs.filter(last_active__gt=after)
    filters = custom_filters(request)
    result = []
    for d in qs:
        if filters and not matches_filters(d.custom_data, filters):
            continue
        if not policies.matches(caller.policy, "devices", d.device_id, d.custom_data):
            continue
        result.append(service.device_json(d))
        if len(result) >= limit:
            break
    return result


def _device(caller, device_id):
    d = Device.objects.filter(account=caller.account, device_id=device_id).first()
    if d is None:
        raise not_found("device not found")
    if not policies.matches(caller.policy, "devices", d.device_id, d.custom_data):
        raise forbidden()
    return d


@api("GET")
def device_detail(request, caller, device_id):
    return service.device_json(_device(caller, device_id))


@api("POST")
def device_notifications(request, caller, device_id):
    body = read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("session"), str):
        raise invalid("invalid_request", "session must be a session id")
    d = _device(caller, device_id)
    if not policies.permits(caller.policy, "push", "write"):
        raise forbidden("policy does not allow push notifications")
    s = Session.objects.filter(account=caller.account, session_id=body["session"]).first()
    if s is None:
        raise not_found("session not found")
    if s.state != "pending":
        raise invalid("invalid_state", "session is not pending")
    service.notify_device(s, d)
    return {}


# --- users, accounts, policy, regions ---------------------------------------------------------

@api("GET")
def user_detail(request, caller, user_id):
    if user_id == "me":
        return service.user_json(caller.user)
    user = User.objects.filter(account=caller.account, user_id=user_id).first()
    if user is None:
        raise not_found("user not found")
    data = service.user_json(user)
    if user != caller.user:
        data.pop("notification_token")
    return data


@api("GET")
def accounts(request, caller):
    a: Account = caller.account
    return [{"id": f"acc_{a.pk}", "license_key": a.license_key, "features": {
        "recording": bool(a.setting("record_sessions")), "full_device": bool(a.setting("full_device")),
        "remote_control": bool(a.setting("remote_control"))}}]


@api("GET")
def policy_current(request, caller):
    return policies.current(caller.policy)


@api("GET")
def regions_closest(request, caller):
    return {"id": "local", "type": "sockets"}

"""The ticket page's co-browse endpoints: the device panel, the JS bridge and token refresh."""

from functools import wraps

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from helpdesk import access, json_input
from helpdesk.views.common import agent_required

from . import devices, services, tokens
from .client import SESSION_ID_RE, CobrowseError, NotConfigured

BRIDGE_EVENTS = {"session.loaded", "session.updated", "tool", "left"}
TOOLS = {"laser", "drawing", "control", "clear", "full_device", "remote_control", "end"}
MAX_BODY = 4096
REPORT = json_input.Object({
    "event": json_input.Text(choices=tuple(BRIDGE_EVENTS)),
    "session_id": json_input.Text(max_length=128, pattern=SESSION_ID_RE, expected="a Cobrowse session id"),
    "tool": json_input.Text(choices=tuple(TOOLS), required=False),
})


def _error(message, status):
    return JsonResponse({"ok": False, "error": message}, status=status)


def _json_when_unavailable(view):
    """Co-browse that cannot be used is a JSON answer, never a 500: 503 without a usable signing or
    license key (the message names it, never its content), 403 for a team without a policy in deny mode."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (NotConfigured, ImproperlyConfigured) as exc:
            return _error(f"Co-browse is not available: {exc}", 503)
        except tokens.NoPolicy as exc:
            return _error(str(exc), 403)

    return wrapper


PANEL_ERRORS = (CobrowseError, ImproperlyConfigured, tokens.NoPolicy)  # the last two: no usable signing key, deny mode


def _panel_error(exc):
    return exc.message if isinstance(exc, CobrowseError) else str(exc)


@require_GET
@agent_required
def panel(request, ticket_id):
    """The customer's devices and sessions, fetched from Cobrowse with the agent's token.

    Loaded by htmx after the page is shown, so a slow or absent service never blocks a render.
    Devices: the day's window, then as many older pages as the card had open (`older`); with a
    cursor (`before`), only the next page of older devices. devices.py says what is asked.
    """
    ticket = access.ticket_or_404(request.agent, ticket_id)
    try:
        cursor = devices.Cursor.from_query(request.GET)
    except ValueError:
        return HttpResponseBadRequest("That is not a page of this device list.", content_type="text/plain")
    client = services.agent_client(request.agent)
    user_id = ticket.customer.user_id
    if cursor is not None:
        context = {"ticket": ticket, "page": None, "cursor": cursor, "error": None, "control": True}
        try:
            context["page"] = devices.older_page(client, user_id, cursor)
        except PANEL_ERRORS as exc:
            context["error"] = _panel_error(exc)
        return render(request, "cobrowse/_device_page.html", context)
    context = {"ticket": ticket, "window": None, "devices": [], "sessions": [], "error": None}
    try:
        window = devices.window(client, user_id, timezone.now(), devices.older_pages_shown(request.GET))
        context.update(window=window, devices=window.recent.devices)
        context["sessions"] = client.list_sessions(
            filter_user_id=user_id, state=["pending", "authorizing", "active"], limit=20
        )
    except PANEL_ERRORS as exc:
        context["error"] = _panel_error(exc)
    return render(request, "cobrowse/_devices.html", context)


@require_POST
@agent_required
@_json_when_unavailable
def bridge(request, ticket_id):
    """What the page's JS bridge saw in the embed. The session id is verified, never trusted."""
    ticket = access.ticket_or_404(request.agent, ticket_id)
    try:
        report = json_input.parse(request.body, REPORT, max_size=MAX_BODY, what="report")
    except json_input.InvalidInput as exc:
        return _error(exc.reason, 413 if exc.code == "too_large" else 400)
    event, session_id = report["event"], report["session_id"]
    try:
        if event == "session.loaded":
            link, created = services.link_session(ticket, request.agent, session_id)
        elif event == "session.updated":
            link, created = services.record_session_update(ticket, request.agent, session_id), False
        else:
            link = access.session_link_or_none(request.agent, ticket, session_id)
            if link is None:
                return _error("This session is not linked to this ticket.", 404)
            created = False
            if event == "tool":
                tool = report["tool"]
                if tool is None:
                    return _error(f"tool is required; one of {', '.join(sorted(TOOLS))}.", 400)
                link = services.record_tool(ticket, request.agent, session_id, tool) or link
            else:
                services.record_left(ticket, request.agent, session_id)
    except services.NeedsConfirmation as exc:
        return _needs_confirmation(ticket, session_id, exc)
    except services.LinkRefused as exc:
        return _error(str(exc), 409)
    return _linked(link, created)


def _linked(link, created):
    return JsonResponse({"ok": True, "created": created, "link": {
        "session_id": link.session_id, "state": link.state, "ticket_id": link.ticket_id,
    }})


def _needs_confirmation(ticket, session_id, exc):
    """Not linked: the page offers the agent a button that posts to confirm_url."""
    return JsonResponse({
        "ok": False, "state": "needs_confirmation", "error": str(exc), "reason": exc.reason,
        "session_id": session_id, "confirm_url": reverse("cobrowse_confirm", args=[ticket.pk]),
    }, status=409)


@require_POST
@agent_required
@_json_when_unavailable
def confirm(request, ticket_id):
    """The agent links a session whose device could not be matched to the customer (form field
    session_id). Checked again: a device of another customer is still refused."""
    ticket = access.ticket_or_404(request.agent, ticket_id)
    session_id = request.POST.get("session_id", "")
    if not SESSION_ID_RE.fullmatch(session_id):
        return _error("That is not a Cobrowse session id.", 400)
    try:
        link, created = services.link_session(ticket, request.agent, session_id, confirmed=True)
    except services.LinkRefused as exc:
        return _error(str(exc), 409)
    return _linked(link, created)


@never_cache  # a bearer token: no browser or proxy keeps a copy
@require_GET
@agent_required
@_json_when_unavailable
def token(request):
    """A fresh agent token for the page's SDK before the old one expires."""
    value = tokens.agent_token(request.agent, refresh=request.GET.get("refresh") == "1")
    return JsonResponse({"token": value, "expires": tokens.token_expiry(value)})

"""The ticket page's co-browse endpoints: the device panel, the JS bridge and token refresh."""

import json

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from helpdesk import access
from helpdesk.views.common import agent_required

from . import services, tokens
from .client import SESSION_ID_RE, CobrowseError

BRIDGE_EVENTS = {"session.loaded", "session.updated", "tool", "left"}
TOOLS = {"laser", "drawing", "control", "clear", "full_device", "remote_control", "end"}
MAX_BODY = 4096


def _error(message, status):
    return JsonResponse({"ok": False, "error": message}, status=status)


@require_GET
@agent_required
def panel(request, ticket_id):
    """The customer's devices and sessions, fetched from Cobrowse with the agent's token.

    Loaded by htmx after the page is shown, so a slow or absent service never blocks a render.
    """
    ticket = access.ticket_or_404(request.agent, ticket_id)
    client = services.agent_client(request.agent)
    context = {"ticket": ticket, "devices": [], "sessions": [], "error": None}
    try:
        context["devices"] = client.list_devices(filter_user_id=ticket.customer.user_id, limit=20)
        context["sessions"] = client.list_sessions(
            filter_user_id=ticket.customer.user_id, state=["pending", "authorizing", "active"], limit=20
        )
    except CobrowseError as exc:
        context["error"] = exc.message
    return render(request, "cobrowse/_devices.html", context)


@require_POST
@agent_required
def bridge(request, ticket_id):
    """What the page's JS bridge saw in the embed. The session id is verified, never trusted."""
    ticket = access.ticket_or_404(request.agent, ticket_id)
    if len(request.body) > MAX_BODY:
        return _error("The report is too large.", 413)
    try:
        report = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _error("The report is not valid JSON.", 400)
    if not isinstance(report, dict):
        return _error("The report must be a JSON object.", 400)
    event, session_id = report.get("event"), report.get("session_id")
    if event not in BRIDGE_EVENTS:
        return _error(f"Unknown event; expected one of {', '.join(sorted(BRIDGE_EVENTS))}.", 400)
    if not isinstance(session_id, str) or not session_id:
        return _error("session_id must be a non-empty string.", 400)
    if not SESSION_ID_RE.match(session_id):
        return _error("That is not a Cobrowse session id.", 400)
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
                tool = report.get("tool")
                if tool not in TOOLS:
                    return _error("Unknown tool.", 400)
                services.record_tool(ticket, request.agent, session_id, tool)
            else:
                services.record_left(ticket, request.agent, session_id)
    except services.LinkRefused as exc:
        return _error(str(exc), 409)
    return JsonResponse({"ok": True, "created": created, "link": {
        "session_id": link.session_id, "state": link.state, "ticket_id": link.ticket_id,
    }})


@require_GET
@agent_required
def token(request):
    """A fresh agent token for the page's SDK before the old one expires."""
    value = tokens.agent_token(request.agent, refresh=request.GET.get("refresh") == "1")
    return JsonResponse({"token": value, "expires": tokens.token_expiry(value)})

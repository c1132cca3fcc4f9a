"""Supervisor pages: active co-browse sessions on the account, and watching one without ending it."""

import json
import logging
from datetime import datetime, timezone as dt_timezone

from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk import access
from helpdesk.events import Verb
from helpdesk.views.common import supervisor_required

from . import account, embeds, monitoring, tokens
from .client import SESSION_ID_RE, CobrowseError, NotFound
from .services import admin_client

PAGE_SIZE = 50
WATCHING = "cobrowse_watching"
EARLIEST = datetime.min.replace(tzinfo=dt_timezone.utc)

log = logging.getLogger(__name__)


@require_GET
@supervisor_required
def sessions(request):
    """The count (total and per team) and the list of active sessions; htmx refreshes the body."""
    snapshot = monitoring.active_sessions(refresh=request.GET.get("refresh") == "1")
    team = request.GET.get("team", "")
    rows = [s for s in snapshot.sessions if not team or s.team == team]
    rows.sort(key=lambda s: s.activated or EARLIEST, reverse=True)
    context = {
        "snapshot": snapshot, "team": team, "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "teams": [name for name, _ in snapshot.by_team],
    }
    template = "supervisor/_sessions.html" if request.htmx and not request.htmx.boosted else "supervisor/sessions.html"
    return render(request, template, context)


def _session_or_404(session_id):
    if not SESSION_ID_RE.match(session_id):
        raise Http404("That is not a Cobrowse session id.")
    try:
        return admin_client().get_session(session_id), ""
    except NotFound:
        raise Http404("Cobrowse does not know this session.") from None
    except CobrowseError as exc:
        return None, exc.message


@never_cache  # the page carries a watch token
@require_http_methods(["GET", "POST"])
@supervisor_required
def watch(request, session_id):
    """GET shows the session and, once the supervisor watches it, the embed in watch mode
    (end_action=none, no tools, a read-only token for this one session); it records nothing.
    POST starts watching (recorded), then shows the page. `leaving` switches from another one."""
    session, error = _session_or_404(session_id)
    if request.method == "POST":
        _stop_watching(request, request.POST.get("leaving", ""))
        if session is not None and session.get("state") != "ended":
            _start_watching(request, session_id, session)
        return redirect("supervisor_watch", session_id=session_id)
    watching = session_id in request.session.get(WATCHING, {})
    context = {"session_id": session_id, "error": error, "session": session, "ticket": None, "others": [],
               "watching": watching}
    if session is not None:
        context["ticket"] = monitoring.linked_ticket(session)
        if watching and session.get("state") != "ended":
            try:
                token = tokens.watch_token(request.agent, session_id)
            except ImproperlyConfigured as exc:  # no usable signing or license key: nothing to watch with
                log.warning("Supervisor %s cannot watch co-browse session %s: %s", request.agent.pk, session_id, exc)
                context["error"] = error = str(exc)
            else:
                context["embed_url"] = embeds.session_url(session_id, token)
                context["watch_config"] = json.dumps({
                    "embedUrl": context["embed_url"], "token": token, "api": account.api(),
                    "tokenExpires": tokens.token_expiry(token),
                    "tokenUrl": reverse("supervisor_watch_token", args=[session_id]),
                })
        agent = session.get("agent") or {}
        context["agent_name"] = agent.get("name") or agent.get("email") or "—"
        context["device"] = monitoring.device_name(session.get("device"))
        context["others"] = [s for s in monitoring.active_sessions().sessions if s.id != session_id][:25]
    return render(request, "supervisor/watch.html", context, status=503 if error else 200)


@require_POST
@supervisor_required
def leave(request, session_id):
    """Stop watching (the session keeps running) and go back to the sessions. Switching to another
    session goes through watch's POST (`leaving`)."""
    if not SESSION_ID_RE.match(session_id):
        raise Http404("That is not a Cobrowse session id.")
    _stop_watching(request, session_id)
    return redirect("supervisor_sessions")


def _start_watching(request, session_id, session):
    watching = request.session.get(WATCHING, {})
    if session_id in watching:
        return
    ticket = monitoring.linked_ticket(session)
    monitoring.record_watch(ticket, request.agent, session_id, Verb.COBROWSE_WATCH_STARTED)
    # What leaving records against: never an id the browser sends.
    request.session[WATCHING] = {**watching, session_id: ticket.pk if ticket else None}


def _stop_watching(request, session_id):
    watching = request.session.get(WATCHING, {})
    if session_id in watching:
        ticket_id = watching.pop(session_id)
        request.session[WATCHING] = watching
        ticket = access.ticket_or_none(request.agent, ticket_id) if ticket_id else None
        monitoring.record_watch(ticket, request.agent, session_id, Verb.COBROWSE_WATCH_LEFT)


@require_POST
@supervisor_required
def watch_token(request, session_id):
    """A fresh watch token for the page, only for a session this supervisor started watching."""
    if session_id not in request.session.get(WATCHING, {}):
        return JsonResponse({"ok": False, "error": "You are not watching this session."}, status=403)
    try:
        token = tokens.watch_token(request.agent, session_id)
    except ImproperlyConfigured as exc:
        return JsonResponse({"ok": False, "error": f"Co-browse is not available: {exc}"}, status=503)
    return JsonResponse({"ok": True, "token": token, "expires": tokens.token_expiry(token)})

"""Supervisor pages: active co-browse sessions on the account, and watching one without ending it."""

import json
from datetime import datetime, timezone as dt_timezone

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from helpdesk import access
from helpdesk.views.common import supervisor_required

from . import account, embeds, monitoring, tokens
from .client import SESSION_ID_RE, CobrowseError, NotFound
from .services import admin_client

PAGE_SIZE = 50
WATCHING = "cobrowse_watching"
EARLIEST = datetime.min.replace(tzinfo=dt_timezone.utc)


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


@require_GET
@supervisor_required
def watch(request, session_id):
    """Open a session in the embed in watch mode: end_action=none, no tools, leave without ending."""
    session, error = _session_or_404(session_id)
    context = {"session_id": session_id, "error": error, "session": session, "ticket": None, "others": []}
    if session is not None:
        context["ticket"] = ticket = monitoring.linked_ticket(session)
        if session.get("state") != "ended":
            monitoring.record_watch(ticket, request.agent, session_id, "cobrowse_watch_started")
            # What leave() records against: never an id the browser sends.
            request.session[WATCHING] = {**request.session.get(WATCHING, {}), session_id: ticket.pk if ticket else None}
            token = tokens.cached_token(request.agent.email, name=request.agent.display_name, role="administrator")
            context["embed_url"] = embeds.session_url(session_id, token)
            context["watch_config"] = json.dumps({"embedUrl": context["embed_url"], "token": token,
                                                  "api": account.api()})
        agent = session.get("agent") or {}
        context["agent_name"] = agent.get("name") or agent.get("email") or "—"
        context["device"] = monitoring.device_name(session.get("device"))
        context["others"] = [s for s in monitoring.active_sessions().sessions if s.id != session_id][:25]
    return render(request, "supervisor/watch.html", context, status=503 if error else 200)


@require_POST
@supervisor_required
def leave(request, session_id):
    """Stop watching (the session keeps running) and go back, or on to another session."""
    if not SESSION_ID_RE.match(session_id):
        raise Http404("That is not a Cobrowse session id.")
    watching = request.session.get(WATCHING, {})
    if session_id in watching:
        ticket_id = watching.pop(session_id)
        request.session[WATCHING] = watching
        ticket = access.ticket_or_none(request.agent, ticket_id) if ticket_id else None
        monitoring.record_watch(ticket, request.agent, session_id, "cobrowse_watch_left")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("supervisor_sessions")
    return redirect(target)

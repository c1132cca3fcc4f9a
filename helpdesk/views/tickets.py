"""Ticket list, ticket page and the actions on a ticket. Thin: the work is in services."""

import hashlib

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_htmx.http import retarget

from .. import access, services, ticket_page
from ..forms import AssignForm, ReplyForm, StatusForm, TicketFilterForm
from ..fragments import page_fragments, render_fragment, ticket_context
from ..versions import fragment_versions, list_version
from .common import agent_required

PAGE_SIZE = 25


def _list_context(request, current=None, version=None):
    """The filtered, paginated list column. Its HTML is cached until any ticket the agent can
    see changes (every change moves a ticket's updated_at) or something changes in the admin."""
    version = version or list_version(request.agent)
    query = request.GET.copy()
    page_number = query.pop("page", ["1"])[-1]
    key = "ticket-list-column:" + hashlib.sha256(
        f"{request.agent.pk}|{sorted(query.lists())}|{page_number}|{current and current.pk}|{version}".encode()
    ).hexdigest()
    cached = cache.get(key)
    if cached is None:  # the filter form too is only needed to draw the list again
        form = TicketFilterForm(request.GET, agent=request.agent)
        cleaned = form.cleaned_data if form.is_valid() else {}
        status, assignee = cleaned.get("status") or "active", cleaned.get("assignee", "")
        qs = form.filter(access.visible_tickets(request.agent)).select_related("customer", "assignee", "team").only(
            "id", "subject", "status", "priority", "channel", "updated_at",
            "customer__name", "team__name", "assignee__display_name",
        )
        html = render_to_string("_partials/_ticket_list.html", {
            "filter_form": form, "page": Paginator(qs, PAGE_SIZE).get_page(page_number),
            "filter_query": query.urlencode(), "ticket": current,
            "active_status": status, "active_assignee": assignee,
        })
        cached = (html, status, assignee)
        cache.set(key, cached, 3600)
    html, status, assignee = cached
    return {"ticket_list_html": mark_safe(html), "active_status": status, "active_assignee": assignee}


@agent_required
def ticket_list(request):
    context = _list_context(request)
    if request.htmx and request.htmx.target == "ticket-list":
        return HttpResponse(context["ticket_list_html"])
    return render(request, "tickets/list.html", context)


@never_cache  # the page carries the agent's Cobrowse token
@agent_required
def ticket_detail(request, ticket_id):
    # Only the customer's card is read with the ticket; the header's team and assignee are read
    # when its cached fragment is drawn again, and the page is drawn only when it changed.
    ticket = access.ticket_or_404(request.agent, ticket_id, related=("customer",))
    versions = fragment_versions(ticket, request.agent)

    def draw(csrf_token):
        context = {**_list_context(request, current=ticket, version=versions["list_version"]), "ticket": ticket,
                   "csrf_token": csrf_token, "fragments": page_fragments(ticket, csrf_token, versions)}
        return render_to_string("tickets/detail.html", context, request)

    return HttpResponse(ticket_page.page_html(request, ticket, versions, get_token(request), draw))


def _refused(request, ticket, message, fragment, context, target):
    """A refused action: the fragment with the error (htmx) or the page with a message."""
    if request.htmx:
        response = render(request, fragment, {**context, "error": message}, status=422)
        return retarget(response, target)
    messages.error(request, message)
    return redirect(ticket)


@require_POST
@agent_required
def ticket_reply(request, ticket_id):
    ticket = access.ticket_or_404(request.agent, ticket_id)
    form = ReplyForm(request.POST)
    compose = {"ticket": ticket, "reply_form": form}
    if not form.is_valid():
        error = " ".join(e for errors in form.errors.values() for e in errors)
        return _refused(request, ticket, error, "_partials/_compose.html", compose, "#compose")
    internal = form.cleaned_data["internal"] or request.POST.get("action") == "note"
    try:
        services.reply(ticket, request.agent, form.cleaned_data["body"], internal=internal)
    except services.ActionError as exc:
        return _refused(request, ticket, str(exc), "_partials/_compose.html", compose, "#compose")
    if request.htmx:
        ticket.refresh_from_db()
        return render(request, "_partials/_thread_and_compose.html", ticket_context(ticket))
    messages.success(request, "Note added." if internal else "Reply sent.")
    return redirect(ticket)


def _header_response(request, ticket, notice):
    ticket = access.ticket_or_404(request.agent, ticket.pk)
    if request.htmx:
        return render(request, "_partials/_ticket_header.html", {**ticket_context(ticket), "notice": notice})
    messages.success(request, notice)
    return redirect(ticket)


@require_POST
@agent_required
def ticket_status(request, ticket_id):
    ticket = access.ticket_or_404(request.agent, ticket_id)
    form = StatusForm(request.POST)
    header = ticket_context(ticket)
    if not form.is_valid():
        error = " ".join(form.errors["status"])
        return _refused(request, ticket, error, "_partials/_ticket_header.html", header, "#ticket-header")
    try:
        ticket = services.change_status(ticket, form.cleaned_data["status"], request.agent)
    except services.ActionError as exc:
        return _refused(request, ticket, str(exc), "_partials/_ticket_header.html", header, "#ticket-header")
    return _header_response(request, ticket, f"Status set to {ticket.get_status_display().lower()}.")


@require_POST
@agent_required
def ticket_assign(request, ticket_id):
    ticket = access.ticket_or_404(request.agent, ticket_id)
    form = AssignForm(request.POST, ticket=ticket)
    header = ticket_context(ticket)
    if not form.is_valid():
        error = " ".join(form.errors["assignee"])
        return _refused(request, ticket, error, "_partials/_ticket_header.html", header, "#ticket-header")
    assignee = form.cleaned_data["assignee"]
    try:
        services.assign(ticket, assignee, request.agent)
    except services.ActionError as exc:
        return _refused(request, ticket, str(exc), "_partials/_ticket_header.html", header, "#ticket-header")
    return _header_response(request, ticket, f"Assigned to {assignee}." if assignee else "Unassigned.")


@agent_required
def ticket_fragment(request, ticket_id, what):
    """One live fragment of the ticket page (re-fetched after a websocket reconnect)."""
    ticket = access.ticket_or_404(request.agent, ticket_id)
    html = render_fragment(ticket.pk, what, get_token(request))
    if not html:
        raise Http404("Unknown fragment")
    return HttpResponse(html)

"""The incoming webhook endpoint, and the admin pages for endpoints and the delivery log."""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from helpdesk.forms import object_id
from helpdesk.events import WEBHOOK_VERBS
from helpdesk.models import Event
from helpdesk.views.common import admin_required

from . import incoming, services, signing
from .forms import IncomingEndpointForm, OutgoingEndpointForm
from .models import Delivery, IncomingEndpoint, OutgoingEndpoint

logger = logging.getLogger(__name__)
SECRET_SESSION_KEY = "webhook_secret_once"


@csrf_exempt
def receive(request, slug):
    """POST /hooks/in/<slug>/: JSON in, JSON out ({"ok": false, "error": ...} with a 4xx)."""
    if request.method != "POST":
        return JsonResponse({"ok": False, "error": "Use POST."}, status=405, headers={"Allow": "POST"})
    try:
        declared = request.META.get("CONTENT_LENGTH") or ""
        incoming.check_size(int(declared) if declared.isdigit() else 0)  # before reading the body
        outcome = incoming.receive(slug, request.body, request.headers.get(signing.TIMESTAMP_HEADER, ""),
                                   request.headers.get(signing.SIGNATURE_HEADER, ""))
    except incoming.WebhookError as exc:
        logger.warning("incoming webhook refused slug=%r status=%s: %s", slug[:80], exc.status, exc.message)
        return JsonResponse({"ok": False, "error": exc.message}, status=exc.status)
    return JsonResponse(outcome.as_json())


@admin_required
def settings_page(request):
    incoming, outgoing = list(IncomingEndpoint.objects.select_related("team")), list(OutgoingEndpoint.objects.all())
    context = {
        "settings_tab": "webhooks",
        "public_url": settings.HELPDESK_PUBLIC_URL,
        "incoming": incoming,
        "outgoing": outgoing,
        "unreadable": {"incoming": services.unreadable_secrets(incoming), "outgoing": services.unreadable_secrets(outgoing)},
        "incoming_form": IncomingEndpointForm(prefix="in"),
        "outgoing_form": OutgoingEndpointForm(prefix="out"),
        "new_secret": request.session.pop(SECRET_SESSION_KEY, None),
        "history": Event.objects.filter(ticket=None, verb__in=WEBHOOK_VERBS).select_related("actor").order_by("-created_at")[:10],
    }
    status = 200
    if request.method == "POST":
        kind = request.POST.get("kind")
        if kind not in services.KINDS:
            messages.error(request, "Unknown kind of endpoint.")
            return redirect("webhooks")
        form_class, prefix = (IncomingEndpointForm, "in") if kind == "incoming" else (OutgoingEndpointForm, "out")
        form = form_class(request.POST, prefix=prefix)
        if form.is_valid():
            endpoint = form.save(commit=False)
            _show_secret_once(request, endpoint, services.create(endpoint, request.agent))
            messages.success(request, f"Webhook endpoint {endpoint.name} created.")
            return redirect("webhooks")
        context[f"{kind}_form"] = form
        status = 422
    return render(request, "webhooks/settings.html", context, status=status)


@admin_required
@require_POST
def endpoint_action(request, kind, pk, action):
    model = services.KINDS.get(kind)
    if model is None:
        return redirect("webhooks")
    endpoint = get_object_or_404(model, pk=pk)
    if action == "rotate":
        _show_secret_once(request, endpoint, services.rotate_secret(endpoint, request.agent))
        messages.success(request, f"New secret for {endpoint.name}; the previous one no longer works.")
    elif action in ("enable", "disable"):
        services.set_enabled(endpoint, action == "enable", request.agent)
        messages.success(request, f"{endpoint.name} {action}d.")
    elif action == "delete":
        services.delete(endpoint, request.agent)
        messages.success(request, f"{endpoint.name} deleted.")
    else:
        messages.error(request, "Unknown action.")
    return redirect("webhooks")


def _show_secret_once(request, endpoint, secret):
    request.session[SECRET_SESSION_KEY] = {"name": endpoint.name, "secret": secret}


@admin_required
def deliveries(request):
    qs = Delivery.objects.select_related("endpoint")
    state = request.GET.get("state", "")
    if state in Delivery.State.values:
        qs = qs.filter(state=state)
    endpoint = request.GET.get("endpoint", "")
    if object_id(endpoint) is not None:
        qs = qs.filter(endpoint_id=object_id(endpoint))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "webhooks/deliveries.html", {
        "settings_tab": "webhooks", "page": page, "state": state, "endpoint": endpoint,
        "states": Delivery.State.choices, "endpoints": OutgoingEndpoint.objects.all(),
    })


@admin_required
@require_POST
def replay(request, delivery_id):
    delivery = get_object_or_404(Delivery.objects.select_related("endpoint"), pk=delivery_id)
    services.replay(delivery, request.agent)
    messages.success(request, f"{delivery.get_event_type_display()} queued again for {delivery.endpoint.name}.")
    return redirect("webhook_deliveries")

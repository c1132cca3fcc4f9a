"""The agents' chat queue, take/close actions, and the demo customer page. Thin: work is in services."""

import logging

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from helpdesk import access
from helpdesk.secret_store import SecretUnavailable
from helpdesk.views.common import agent_required

from . import identity, services

logger = logging.getLogger(__name__)


@agent_required
def chat_queue(request):
    return render(request, "chat/queue.html", {
        "waiting": services.waiting_chats(request.agent), "mine": services.active_chats(request.agent),
    })


def _after_action(request, chat, notice, error=None):
    if request.htmx and request.htmx.target != "chat-panel" and not error:
        return HttpResponseClientRedirect(chat.ticket.get_absolute_url())  # from the queue: open the ticket
    if request.htmx:
        chat.refresh_from_db()
        return render(request, "chat/_chat_panel.html", {"chat": chat, "ticket": chat.ticket, "error": error},
                      status=422 if error else 200)
    (messages.error if error else messages.success)(request, error or notice)
    return redirect(chat.ticket)


@require_POST
@agent_required
def chat_take(request, chat_id):
    chat = access.chat_or_404(request.agent, chat_id)
    try:
        services.take_chat(chat, request.agent)
    except services.ActionError as exc:
        return _after_action(request, chat, "", str(exc))
    return _after_action(request, chat, "You took the chat.")


@require_POST
@agent_required
def chat_close(request, chat_id):
    chat = access.chat_or_404(request.agent, chat_id)
    try:
        services.close_chat(chat, request.agent, "agent")
    except services.ActionError as exc:
        return _after_action(request, chat, "", str(exc))
    return _after_action(request, chat, "Chat closed.")


# It plays a customer's website, whose own policy is the site's business: the widget adds its
# stylesheet as a <style> element, as it does on any site.
@csp_update({"style-src": ["'unsafe-inline'"]})
def demo_customer_page(request):
    """A stand-in for a customer's website: its 'backend' signs the visitor's identity server-side."""
    if not settings.CHAT_DEMO_PAGE:
        raise Http404("The demo page is off (CHAT_DEMO_PAGE).")
    site = services.find_site(settings.CHAT_DEMO_SITE)
    if site is None:
        raise Http404("No demo chat site; run `manage.py seed_demo` first.")
    user_id = (request.GET.get("user_id") or "customer-001").strip()[:identity.MAX_USER_ID]
    name = (request.GET.get("name") or "").strip()[:150]
    try:
        secret = site.secret
    except SecretUnavailable:
        logger.error("Demo chat site %s (id %s): its secret cannot be decrypted", site.key, site.pk)
        return HttpResponse("The demo site's secret cannot be decrypted (encryption keys changed?): "
                            "rotate it in the admin (Chat sites).", status=503, content_type="text/plain")
    signed = identity.signed_identity(secret, user_id, lifetime=settings.CHAT_DEMO_IDENTITY_LIFETIME)
    return render(request, "chat/demo.html", {
        "site": site, "identity": signed, "name": name or user_id,
        "helpdesk_origin": request.build_absolute_uri("/").rstrip("/"),
    })

"""The fragments of the ticket page, rendered the same way for a page, an htmx swap or a push.

Integrations add their own fragment with register(); its context is then part of the page's.

Rendered fragments are cached under the ticket's page version (see versions.py), so a page view
or a push after a change renders each fragment once, and a page view with no change renders none.
The cached HTML is the same for every agent: the CSRF token in its forms is left as a hole, an
unguessable marker that each response replaces with its own token (pushes, sent to every viewer,
with none: htmx then sends the token from the page's hx-headers).
"""

import hashlib

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe

from .forms import AssignForm, ReplyForm
from .models import Message, Ticket
from .versions import fragment_versions

CACHE_SECONDS = 86400
# Derived from SECRET_KEY so that no message body can contain it.
CSRF_HOLE = SimpleLazyObject(lambda: salted_hmac("helpdesk.fragments.csrf-hole", "csrf").hexdigest())


def _viewers(ticket):
    names = ticket.viewers.values_list("agent__display_name", flat=True).order_by("connected_at")
    return {"viewers": list(dict.fromkeys(names))}


FRAGMENTS = {
    "header": ("_partials/_ticket_header.html", None),
    "thread": ("_partials/_thread.html", None),  # pushed alone; the page shows it with the compose form
    "thread_and_compose": ("_partials/_thread_and_compose.html", None),
    "events": ("_partials/_events.html", None),
    "viewers": ("_partials/_viewers.html", _viewers),
}


def register(name, template, context_fn):
    """context_fn(ticket) -> dict, for the page and for every render of this fragment."""
    FRAGMENTS[name] = (template, context_fn)


def _context(ticket, versions, names):
    """What the named fragments need. The querysets are lazy: a template that does not show
    them does not run them."""
    context = {
        "ticket": ticket,
        "thread": Message.objects.filter(conversation__ticket=ticket).select_related("author").order_by("created_at", "id"),
        "events": ticket.events.select_related("actor").order_by("-created_at", "-id")[:15],
        "reply_form": ReplyForm(),
        "assign_form": AssignForm(ticket=ticket, initial={"assignee": ticket.assignee_id}),
        **versions,
    }
    for name in names:
        context_fn = FRAGMENTS[name][1]
        if context_fn:
            context.update(context_fn(ticket))
    return context


def ticket_context(ticket):
    """What the ticket's own fragments (header, thread, compose, events) show, freshly read."""
    return _context(ticket, fragment_versions(ticket), [])


def cached_fragments(ticket, names, csrf_token="", versions=None):
    """{name: HTML} for these fragments of the ticket, from the cache where it is current."""
    versions = versions or fragment_versions(ticket)
    version = hashlib.sha256(versions["page_version"].encode()).hexdigest()
    keys = {name: f"ticket-fragment:{version}:{name}" for name in names}
    found = cache.get_many(keys.values())
    missing = [name for name in names if keys[name] not in found]
    if missing:
        context = {**_context(ticket, versions, missing), "csrf_token": str(CSRF_HOLE)}
        rendered = {keys[name]: render_to_string(FRAGMENTS[name][0], context) for name in missing}
        cache.set_many(rendered, CACHE_SECONDS)
        found.update(rendered)
    hole = str(CSRF_HOLE)
    return {name: mark_safe(found[keys[name]].replace(hole, csrf_token)) for name in names}


def page_fragments(ticket, csrf_token, versions):
    """Every fragment the ticket page shows."""
    return cached_fragments(ticket, [name for name in FRAGMENTS if name != "thread"], csrf_token, versions)


def render_message(ticket_id, message_id, message=None):
    """One new message of the ticket's thread as an htmx out-of-band append to #thread, or "";
    read unless `message` (as stored, with its conversation's ticket) is given."""
    if message is None:
        message = (Message.objects.select_related("author", "conversation__ticket__customer")
                   .filter(pk=message_id, conversation__ticket_id=ticket_id).first())
    if message is None:
        return ""
    return render_to_string("_partials/_message_append.html", {"m": message, "ticket": message.conversation.ticket})


def render_fragment(ticket_id, what, csrf_token=""):
    """HTML for one fragment of a ticket page, or "" if the ticket or fragment is unknown."""
    if what not in FRAGMENTS:
        return ""
    ticket = Ticket.objects.select_related("customer", "team", "assignee").filter(pk=ticket_id).first()
    if ticket is None:
        return ""
    return cached_fragments(ticket, [what], csrf_token)[what]

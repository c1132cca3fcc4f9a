"""The fragments of the ticket page, rendered the same way for a page, an htmx swap or a push.

Integrations add their own fragment with register(); its context is then part of the page's.
"""

from django.template.loader import render_to_string

from .forms import AssignForm, ReplyForm
from .models import Message, Ticket
from .versions import fragment_versions

def _viewers(ticket):
    names = ticket.viewers.values_list("agent__display_name", flat=True).order_by("connected_at")
    return {"viewers": list(dict.fromkeys(names))}


FRAGMENTS = {
    "header": ("_partials/_ticket_header.html", None),
    "thread": ("_partials/_thread.html", None),
    "viewers": ("_partials/_viewers.html", _viewers),
}


def register(name, template, context_fn):
    """context_fn(ticket) -> dict, for the page and for every render of this fragment."""
    FRAGMENTS[name] = (template, context_fn)


def ticket_context(ticket):
    thread = (
        Message.objects.filter(conversation__ticket=ticket)
        .select_related("author")
        .order_by("created_at", "id")
    )
    context = {
        "ticket": ticket,
        "thread": thread,
        "events": ticket.events.select_related("actor").order_by("-created_at", "-id")[:15],
        "reply_form": ReplyForm(),
        "assign_form": AssignForm(ticket=ticket, initial={"assignee": ticket.assignee_id}),
        **fragment_versions(ticket),
    }
    for _, context_fn in FRAGMENTS.values():
        if context_fn:
            context.update(context_fn(ticket))
    return context


def render_fragment(ticket_id, what):
    """HTML for one fragment of a ticket page, or "" if the ticket or fragment is unknown."""
    if what not in FRAGMENTS:
        return ""
    ticket = Ticket.objects.select_related("customer", "team", "assignee").filter(pk=ticket_id).first()
    if ticket is None:
        return ""
    template, context_fn = FRAGMENTS[what]
    context = {"ticket": ticket, **(context_fn(ticket) if context_fn else {})}
    if context_fn is None:
        context = ticket_context(ticket)
    return render_to_string(template, context)

"""The one door to every object an agent reaches: tickets, customers, chats and co-browse session links.

Views, htmx fragments, the co-browse bridge, supervisor pages and websocket consumers look objects up
here and nowhere else; services and tasks that act as the system may query directly. An object the
agent may not see is a 404, exactly like one that does not exist (ids are sequential: a 403 would
confirm that it exists).

The rule: agents see their team's tickets, supervisors and admins every ticket. A customer is visible
with at least one visible ticket; a chat or a session link with its ticket.
"""

from types import SimpleNamespace

from django.apps import apps
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Customer, Ticket
from .prepared import PreparedQueries


def agent_of(user):
    """The helpdesk profile of a signed-in, active user; None for anyone else."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return getattr(user, "agent", None)


# --- tickets ------------------------------------------------------------------------------------

def visible_tickets(agent, **filters):
    """Tickets an agent may see: their own team's, or all for supervisors and admins; `filters` as
    for QuerySet.filter, in the same call (a ticket page builds its one query with no extra clone).

    Reads only agent.sees_all_teams and agent.team_id (versions.py relies on it)."""
    if agent is None or (not agent.sees_all_teams and agent.team_id is None):
        return Ticket.objects.none()
    if not agent.sees_all_teams:
        filters["team_id"] = agent.team_id
    return Ticket.objects.filter(**filters)


TICKET_RELATED = ("customer", "team", "assignee")


def ticket_or_none(agent, ticket_id):
    return visible_tickets(agent, pk=ticket_id).select_related(*TICKET_RELATED).first()


def _visible_ticket(shape, ticket_id):
    sees_all_teams, team_id, related = shape
    agent = SimpleNamespace(sees_all_teams=sees_all_teams, team_id=team_id)
    return visible_tickets(agent, pk=ticket_id).select_related(*related)[:1]


# Compiled once per kind of agent (visible_tickets reads only these two attributes) and `related`.
_visible_ticket_queries = PreparedQueries(_visible_ticket)


def ticket_or_404(agent, ticket_id, related=TICKET_RELATED):
    """The ticket, with `related` joined (select_related), or a 404 if the agent may not see it."""
    if agent is None:
        raise Http404("No ticket matches the given query.")
    shape = (agent.sees_all_teams, None if agent.sees_all_teams else agent.team_id, tuple(related))
    try:
        ticket = _visible_ticket_queries[shape].first(ticket_id)
    except (TypeError, ValueError):  # not an id at all
        ticket = None
    if ticket is None:
        raise Http404("No ticket matches the given query.")
    return ticket


# --- customers ----------------------------------------------------------------------------------

def visible_customers(agent):
    """Customers with at least one ticket the agent may see (every customer for supervisors and admins)."""
    if agent is not None and agent.sees_all_teams:
        return Customer.objects.all()
    return Customer.objects.filter(pk__in=visible_tickets(agent).values("customer_id"))


def customer_or_404(agent, customer_id):
    return get_object_or_404(visible_customers(agent), pk=customer_id)


def customer_tickets(agent, customer):
    """The customer's tickets that the agent may see (never the others)."""
    return visible_tickets(agent).filter(customer=customer)


# --- chats --------------------------------------------------------------------------------------

def visible_chats(agent):
    """Chats of tickets the agent may see."""
    chat_model = apps.get_model("chat", "Chat")
    return chat_model.objects.filter(conversation__ticket__in=visible_tickets(agent))


def chat_or_404(agent, chat_id):
    return get_object_or_404(visible_chats(agent).select_related("conversation__ticket", "site"), pk=chat_id)


# --- co-browse session links --------------------------------------------------------------------

def visible_session_links(agent):
    """Co-browse session links of tickets the agent may see (the model belongs to the integration)."""
    link_model = apps.get_model("cobrowse", "SessionLink")
    return link_model.objects.filter(ticket__in=visible_tickets(agent))


def session_link_or_none(agent, ticket, session_id):
    """The link of this session to this ticket, if the agent may see the ticket."""
    if not isinstance(session_id, str):
        return None
    return visible_session_links(agent).filter(ticket=ticket, session_id=session_id).first()

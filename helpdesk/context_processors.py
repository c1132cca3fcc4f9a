from .models import Ticket


def navigation(request):
    """The signed-in agent's profile, for the navigation column."""
    agent = getattr(request.user, "agent", None) if request.user.is_authenticated else None
    return {"current_agent": agent, "ticket_statuses": Ticket.Status.choices}

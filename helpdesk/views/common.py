"""What every helpdesk page needs: the signed-in agent and their role (objects: see helpdesk.access)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from .. import access
from ..models import Agent


def agent_required(view):
    """Signed in and with an agent profile; sets request.agent."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        agent = access.agent_of(request.user)  # read with the user (auth_backend)
        if agent is None:
            raise PermissionDenied("This account has no helpdesk profile.")
        request.agent = agent
        return view(request, *args, **kwargs)

    return wrapper


def role_required(*roles, message):
    """Signed in as an agent whose role is one of `roles`; anyone else gets a 403."""

    def decorate(view):
        @agent_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.agent.role not in roles:
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


supervisor_required = role_required(
    Agent.Role.SUPERVISOR, Agent.Role.ADMIN, message="Only supervisors and admins can open this page."
)
admin_required = role_required(Agent.Role.ADMIN, message="Only admins can open this page.")

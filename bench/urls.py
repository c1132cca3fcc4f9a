from django.http import HttpResponse
from django.shortcuts import render
from django.template import engines
from django.urls import include, path

from helpdesk.models import Team
from helpdesk.views.common import agent_required

_template = engines["django"].from_string(
    "<!doctype html><html><body><h1>{{ team.name }}</h1><p>{{ count }} agents</p></body></html>"
)


def bare(request):
    """The baseline: a small template and one query."""
    team = Team.objects.first()
    return HttpResponse(_template.render({"team": team, "count": 1}))


@agent_required
def signed_in(request):
    """What every helpdesk page costs before its content: the session, the user and the agent."""
    return HttpResponse("ok")


@agent_required
def layout(request):
    """The same, rendering the empty page layout (navigation, CSRF token)."""
    return render(request, "base.html")


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/signed-in/", signed_in),
    path("bench/layout/", layout),
    path("", include("helpdesk.urls")),
]

from django.http import HttpResponse
from django.template import engines
from django.urls import include, path

from helpdesk.models import Team

_template = engines["django"].from_string(
    "<!doctype html><html><body><h1>{{ team.name }}</h1><p>{{ count }} agents</p></body></html>"
)


def bare(request):
    """The baseline: a small template and one query."""
    team = Team.objects.first()
    return HttpResponse(_template.render({"team": team, "count": 1}))


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("helpdesk.urls")),
]

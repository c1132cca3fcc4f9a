"""Supervisor pages: active co-browse sessions on the account, and watching one without ending it."""

from django.shortcuts import render

from helpdesk.views.common import supervisor_required


@supervisor_required
def sessions(request):
    return render(request, "supervisor/sessions.html", {})


@supervisor_required
def watch(request, session_id):
    return render(request, "supervisor/sessions.html", {})

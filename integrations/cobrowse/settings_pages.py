"""Admin pages: the Cobrowse account (API, license key, signing keys) and per-team JWT policies."""

from django.shortcuts import render

from helpdesk.views.common import admin_required


@admin_required
def account(request):
    return render(request, "settings/cobrowse_account.html", {"settings_tab": "account"})


@admin_required
def policies(request):
    return render(request, "settings/policies.html", {"settings_tab": "policies"})

from django.shortcuts import render

from helpdesk.views.common import admin_required


@admin_required
def settings_page(request):
    return render(request, "webhooks/settings.html", {"settings_tab": "webhooks"})

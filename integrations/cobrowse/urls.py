from django.urls import path

from . import settings_pages, supervision, views

urlpatterns = [
    path("cobrowse/token/", views.token, name="cobrowse_token"),
    path("cobrowse/tickets/<int:ticket_id>/panel/", views.panel, name="cobrowse_panel"),
    path("cobrowse/tickets/<int:ticket_id>/bridge/", views.bridge, name="cobrowse_bridge"),
    path("supervisor/sessions/", supervision.sessions, name="supervisor_sessions"),
    path("supervisor/sessions/watch/<str:session_id>/", supervision.watch, name="supervisor_watch"),
    path("settings/cobrowse/", settings_pages.account, name="cobrowse_account"),
    path("settings/policies/", settings_pages.policies, name="cobrowse_policies"),
]

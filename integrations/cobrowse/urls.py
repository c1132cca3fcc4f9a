from django.urls import path

from . import insights_views, settings_pages, supervision, views

urlpatterns = [
    path("cobrowse/token/", views.token, name="cobrowse_token"),
    path("cobrowse/tickets/<int:ticket_id>/panel/", views.panel, name="cobrowse_panel"),
    path("cobrowse/tickets/<int:ticket_id>/bridge/", views.bridge, name="cobrowse_bridge"),
    path("cobrowse/tickets/<int:ticket_id>/confirm/", views.confirm, name="cobrowse_confirm"),
    path("supervisor/sessions/", supervision.sessions, name="supervisor_sessions"),
    path("supervisor/sessions/watch/<str:session_id>/", supervision.watch, name="supervisor_watch"),
    path("supervisor/sessions/watch/<str:session_id>/leave/", supervision.leave, name="supervisor_leave"),
    path("supervisor/sessions/watch/<str:session_id>/token/", supervision.watch_token, name="supervisor_watch_token"),
    path("supervisor/insights/", insights_views.insights_page, name="supervisor_insights"),
    path("settings/cobrowse/", settings_pages.account_page, name="cobrowse_account"),
    path("settings/policies/", settings_pages.policies_page, name="cobrowse_policies"),
    path("settings/policies/<int:team_id>/", settings_pages.policy_edit, name="cobrowse_policy_edit"),
]

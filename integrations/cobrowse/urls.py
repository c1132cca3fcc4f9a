from django.urls import path

from . import views

urlpatterns = [
    path("token/", views.token, name="cobrowse_token"),
    path("tickets/<int:ticket_id>/panel/", views.panel, name="cobrowse_panel"),
    path("tickets/<int:ticket_id>/bridge/", views.bridge, name="cobrowse_bridge"),
]

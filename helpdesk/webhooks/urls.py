from django.urls import path

from . import views

urlpatterns = [
    path("settings/webhooks/", views.settings_page, name="webhooks"),
]

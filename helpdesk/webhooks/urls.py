from django.urls import path

from . import views

urlpatterns = [
    path("hooks/in/<str:slug>/", views.receive, name="webhook_receive"),
    path("settings/webhooks/", views.settings_page, name="webhooks"),
    path("settings/webhooks/<str:kind>/<int:pk>/<str:action>/", views.endpoint_action, name="webhook_action"),
    path("settings/webhooks/deliveries/", views.deliveries, name="webhook_deliveries"),
    path("settings/webhooks/deliveries/<uuid:delivery_id>/replay/", views.replay, name="webhook_replay"),
]

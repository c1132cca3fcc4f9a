from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from .views import customers, tickets

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="ticket_list", permanent=False)),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tickets/", tickets.ticket_list, name="ticket_list"),
    path("tickets/<int:ticket_id>/", tickets.ticket_detail, name="ticket_detail"),
    path("tickets/<int:ticket_id>/reply/", tickets.ticket_reply, name="ticket_reply"),
    path("tickets/<int:ticket_id>/status/", tickets.ticket_status, name="ticket_status"),
    path("tickets/<int:ticket_id>/assign/", tickets.ticket_assign, name="ticket_assign"),
    path("tickets/<int:ticket_id>/fragment/<slug:what>/", tickets.ticket_fragment, name="ticket_fragment"),
    path("customers/<int:customer_id>/", customers.customer_detail, name="customer_detail"),
    path("", include("integrations.cobrowse.urls")),
    path("", include("helpdesk.chat.urls")),
    path("", include("helpdesk.webhooks.urls")),
    path("", include("helpdesk.ops.urls")),
    path("admin/", admin.site.urls),
]

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from .. import services
from ..models import Customer
from .common import agent_required


@agent_required
def customer_detail(request, customer_id):
    customer = get_object_or_404(Customer.objects.select_related("site"), pk=customer_id)
    tickets = (
        services.visible_tickets(request.agent)
        .filter(customer=customer)
        .select_related("team", "assignee")
    )
    page = Paginator(tickets, 25).get_page(request.GET.get("page"))
    return render(request, "customers/detail.html", {"customer": customer, "page": page})

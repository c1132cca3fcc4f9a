from django.core.paginator import Paginator
from django.shortcuts import render

from .. import access
from .common import agent_required


@agent_required
def customer_detail(request, customer_id):
    customer = access.customer_or_404(request.agent, customer_id)
    tickets = access.customer_tickets(request.agent, customer).select_related("team", "assignee")
    page = Paginator(tickets, 25).get_page(request.GET.get("page"))
    return render(request, "customers/detail.html", {"customer": customer, "page": page})

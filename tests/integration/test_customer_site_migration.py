"""Migrating an existing database: a customer who chatted on one site joins that site; the others
(several sites, or created in the helpdesk) stay the helpdesk's own."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("helpdesk", "0004_ticket_revision")]
AFTER = [("helpdesk", "0005_customer_site")]


def migrate(targets):
    """Migrate to the targets; the models as they are then (every app's applied migrations)."""
    MigrationExecutor(connection).migrate(targets)
    return MigrationExecutor(connection)._create_project_state(with_applied_migrations=True).apps


@pytest.mark.django_db(transaction=True)
def test_customers_join_the_one_site_they_chatted_on():
    apps = migrate(BEFORE)
    Team, Customer, Ticket, Conversation = (apps.get_model("helpdesk", name)
                                            for name in ("Team", "Customer", "Ticket", "Conversation"))
    ChatSite, Chat = apps.get_model("chat", "ChatSite"), apps.get_model("chat", "Chat")
    team = Team.objects.create(name="Support", slug="support")
    shop = ChatSite.objects.create(key="shop", name="Shop", team=team)
    blog = ChatSite.objects.create(key="blog", name="Blog", team=team)

    def chat(customer, site):
        ticket = Ticket.objects.create(subject="Chat", customer=customer, team=team)
        Chat.objects.create(site=site, customer=customer, conversation=Conversation.objects.create(ticket=ticket),
                            state="closed")

    shopper, both, own = (Customer.objects.create(user_id=u, name=u) for u in ("shopper", "both", "own"))
    chat(shopper, shop)
    chat(shopper, shop)
    chat(both, shop)
    chat(both, blog)
    Ticket.objects.create(subject="By email", customer=own, team=team)

    try:
        apps = migrate(AFTER)
        sites = dict(apps.get_model("helpdesk", "Customer").objects.values_list("user_id", "site__key"))
        assert sites == {"shopper": "shop", "both": None, "own": None}
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

"""Chat customers belong to the site whose signed identity created them: a user_id is unique per site,
so one site's secret never signs another site's customer, nor one created in the helpdesk."""

import pytest
from channels.db import database_sync_to_async
from django.db import IntegrityError, transaction

from helpdesk.chat import services
from helpdesk.chat.models import Chat
from helpdesk.models import Customer, Message
from tests import factories as f
from tests.chat.helpers import open_widget, say, site

# database_sync_to_async, not sync_to_async: it closes its thread's connection, so PostgreSQL can drop
# the test database at the end.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_sites():
    shop, blog = site(f.team("Shop team"), key="shop"), site(f.team("Blog team"), key="blog")
    carla = f.customer(user_id="u1", name="Carla", site=shop)
    chat, _ = services.start_or_resume_chat(shop, carla, "Where is my parcel?", client_id="a-1")
    return shop, blog, carla, chat


async def test_another_sites_signature_for_the_same_user_id_gets_its_own_customer_and_never_the_chat(two_sites):
    shop, blog, carla, shop_chat = two_sites
    ws, welcome, history = await open_widget(blog, "u1", name="Mallory")
    assert welcome["chat"] is None and history == []  # nothing of the shop's chat
    assert welcome["customer"]["name"] == "Mallory"
    ack = await say(ws, "Show me Carla's parcel", "b-1")
    assert ack["type"] == "ack"
    await ws.disconnect()

    customers = await database_sync_to_async(lambda: {c.site.key: c for c in Customer.objects.select_related("site")})()
    assert set(customers) == {"shop", "blog"}
    assert customers["shop"].pk == carla.pk and customers["blog"].pk != carla.pk
    blog_chat = await database_sync_to_async(Chat.objects.select_related("conversation__ticket").get)(site=blog)
    assert blog_chat.pk != shop_chat.pk and blog_chat.customer_id == customers["blog"].pk
    assert blog_chat.conversation.ticket.customer_id == customers["blog"].pk
    bodies = await database_sync_to_async(lambda: list(
        Message.objects.filter(conversation_id=shop_chat.conversation_id).values_list("body", flat=True)))()
    assert bodies == ["Where is my parcel?"]  # the shop's chat was not continued

    # The shop's own customer still resumes the shop's chat, with only its own messages.
    ws, welcome, history = await open_widget(shop, "u1")
    assert welcome["chat"]["id"] == shop_chat.pk
    assert [m["body"] for m in history] == ["Where is my parcel?"]
    await ws.disconnect()


async def test_a_widget_never_reaches_a_customer_created_in_the_helpdesk():
    support = f.team("Support")
    shop = await database_sync_to_async(site)(support)
    own = await database_sync_to_async(f.customer)(user_id="u1", name="Known by email")
    await database_sync_to_async(f.ticket)(support, own, subject="Invoice question")
    ws, welcome, history = await open_widget(shop, "u1", name="Someone")
    assert welcome["chat"] is None and history == []
    await say(ws, "hello", "c-1")
    await ws.disconnect()
    chat = await database_sync_to_async(Chat.objects.select_related("customer").get)()
    assert chat.customer.pk != own.pk and chat.customer.site_id == shop.pk
    assert await database_sync_to_async(own.tickets.count)() == 1


async def test_the_same_sites_identity_finds_the_same_customer_again(two_sites):
    shop, blog, carla, shop_chat = two_sites
    for _ in range(2):
        ws, welcome, _ = await open_widget(shop, "u1")
        assert welcome["chat"]["id"] == shop_chat.pk
        await ws.disconnect()
    assert await database_sync_to_async(Customer.objects.filter(user_id="u1").count)() == 1


def test_a_user_id_is_unique_per_site_and_among_the_helpdesks_own(two_sites):
    shop, blog, carla, _ = two_sites
    f.customer(user_id="u1", site=blog)
    f.customer(user_id="u1")  # the helpdesk's own "u1"
    for duplicate_site in (shop, blog, None):
        with pytest.raises(IntegrityError), transaction.atomic():
            Customer.objects.create(user_id="u1", name="Again", site=duplicate_site)
    assert Customer.objects.filter(user_id="u1").count() == 3


def test_the_customer_page_names_the_customers_site(client, two_sites):
    shop, blog, carla, _ = two_sites
    client.force_login(f.agent(None, role="supervisor").user)  # sees every customer, with or without tickets
    page = client.get(f"/customers/{carla.pk}/").content.decode()
    assert "user_id u1</span> on chat site Site shop" in page
    own = f.customer(user_id="u1")
    page = client.get(f"/customers/{own.pk}/").content.decode()
    assert "user_id u1</span> · customer since" in page

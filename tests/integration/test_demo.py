"""The demo is opt-in in production: seed_demo needs --force with DEBUG off, and /demo/chat/ is served
only with CHAT_DEMO_PAGE on, whatever DEBUG says. The demo customers belong to the demo chat site."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from helpdesk import services
from helpdesk.chat.demo import seed_demo_site
from helpdesk.chat.models import ChatSite
from helpdesk.models import Agent, Customer, Team, Ticket
from tests import factories as f
from tests.unit.test_configuration import parse_csp

pytestmark = pytest.mark.django_db


def seed(*args):
    call_command("seed_demo", *args, stdout=io.StringIO())


def nothing_seeded():
    return not any(model.objects.exists() for model in (get_user_model(), Team, Agent, Customer, Ticket, ChatSite))


def test_seed_demo_refuses_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        seed()
    assert nothing_seeded()


def test_seed_demo_runs_with_debug_on(settings):
    settings.DEBUG = True
    seed()
    assert get_user_model().objects.filter(username="ada", is_superuser=True).exists()


def test_the_demo_customers_belong_to_the_demo_chat_site(settings):
    seed("--force")
    demo = ChatSite.objects.get(key=settings.CHAT_DEMO_SITE)
    assert Customer.objects.count() == 20
    assert not Customer.objects.exclude(site=demo).exists()
    maria = Customer.objects.get(user_id="customer-001")
    assert maria.name == "Maria Garcia" and maria.tickets.exists()
    # The demo chat page's identity for customer-001 is Maria, with her tickets.
    assert services.get_or_create_customer("customer-001", site=demo) == maria


def test_seeding_again_adopts_demo_customers_seeded_before_they_had_a_site(settings):
    team = f.team()
    older = f.customer(user_id="customer-001", name="Maria Garcia")
    f.ticket(team, older, subject="Seeded long ago")
    seed("--force")
    older.refresh_from_db()
    assert older.site.key == settings.CHAT_DEMO_SITE
    assert Customer.objects.filter(user_id="customer-001").count() == 1
    assert Customer.objects.count() == 20


@pytest.mark.parametrize("debug", [True, False])
def test_the_demo_chat_page_is_404_while_chat_demo_page_is_off(client, settings, debug):
    seed_demo_site(f.team())
    settings.DEBUG, settings.CHAT_DEMO_PAGE = debug, False
    assert client.get("/demo/chat/?user_id=customer-001").status_code == 404


@pytest.mark.parametrize("debug", [True, False])
def test_the_demo_chat_page_is_served_when_chat_demo_page_is_on(client, settings, debug):
    seed_demo_site(f.team())
    settings.DEBUG, settings.CHAT_DEMO_PAGE = debug, True
    response = client.get("/demo/chat/?user_id=customer-001&name=Maria")
    assert response.status_code == 200
    assert 'data-user-id="customer-001"' in response.content.decode()
    policy = parse_csp(response["Content-Security-Policy"])
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]  # the widget's stylesheet, on this page only
    assert policy["script-src"] == ["'self'"]


def test_the_demo_chat_page_is_404_without_the_demo_site(client, settings):
    settings.CHAT_DEMO_PAGE = True
    assert client.get("/demo/chat/").status_code == 404


def test_the_demo_co_browse_history_reads_and_is_seeded_once(settings):
    from helpdesk.events import Verb
    from helpdesk.models import Event
    from integrations.cobrowse.models import SessionLink

    seed("--force")
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("cobrowse_seed_demo", stdout=io.StringIO())
    call_command("cobrowse_seed_demo", "--force", stdout=io.StringIO())
    links = SessionLink.objects.all()
    assert 10 <= links.count() <= 40 and not links.exclude(state="ended").exists()
    assert not links.filter(ended_at__isnull=True).exists()
    ended = Event.objects.filter(verb=Verb.COBROWSE_ENDED)
    assert ended.count() == links.count() and not ended.filter(data__cause__isnull=True).exists()
    assert all("_" not in e.sentence for e in Event.objects.filter(verb__startswith="cobrowse_"))
    before = Event.objects.count()
    call_command("cobrowse_seed_demo", "--force", stdout=io.StringIO())
    assert Event.objects.count() == before and SessionLink.objects.count() == links.count()
    for end in ended.filter(data__cause="ticket_closed").select_related("ticket"):
        assert end.created_at == end.ticket.closed_at  # a session the close ended ran until the close

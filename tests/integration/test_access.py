"""Every object is reached through helpdesk.access: agents see their team's tickets and the customers,
chats and co-browse links of those tickets; supervisors and admins see all; the rest is a 404."""

import json
import re
from pathlib import Path

import pytest
from django.http import Http404
from django.urls import reverse

from helpdesk import access
from helpdesk.chat import services as chat_services
from helpdesk.chat.models import Chat
from helpdesk.models import Agent
from integrations.cobrowse.models import SessionLink
from tests import factories as f
from tests.chat.helpers import site

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world():
    support, billing = f.team("Support"), f.team("Billing")
    ours, theirs, shared = f.customer(name="Ours"), f.customer(name="Theirs"), f.customer(name="Shared")
    return {
        "support": support, "billing": billing, "ours": ours, "theirs": theirs, "shared": shared,
        "lonely": f.customer(name="No tickets"),
        "our_ticket": f.ticket(support, ours, subject="Our problem"),
        "their_ticket": f.ticket(billing, theirs, subject="Their problem"),
        "shared_ours": f.ticket(support, shared, subject="Shared with us"),
        "shared_theirs": f.ticket(billing, shared, subject="Shared with billing"),
        "alice": f.agent(support), "homeless": f.agent(None),
        "supervisor": f.agent(billing, role=Agent.Role.SUPERVISOR), "admin": f.agent(None, role=Agent.Role.ADMIN),
    }


def test_an_agent_sees_their_teams_tickets_supervisors_and_admins_all(world):
    ours = {world["our_ticket"], world["shared_ours"]}
    every = ours | {world["their_ticket"], world["shared_theirs"]}
    assert set(access.visible_tickets(world["alice"])) == ours
    assert set(access.visible_tickets(world["supervisor"])) == every
    assert set(access.visible_tickets(world["admin"])) == every
    assert not access.visible_tickets(world["homeless"]).exists()
    assert not access.visible_tickets(None).exists()


def test_an_agent_sees_only_customers_with_a_ticket_of_their_team(world):
    assert set(access.visible_customers(world["alice"])) == {world["ours"], world["shared"]}
    assert not access.visible_customers(world["homeless"]).exists()
    assert not access.visible_customers(None).exists()
    everyone = {world[k] for k in ("ours", "theirs", "shared", "lonely")}
    assert set(access.visible_customers(world["supervisor"])) == everyone
    assert set(access.visible_customers(world["admin"])) == everyone


def test_a_customer_listed_once_however_many_tickets(world):
    f.ticket(world["support"], world["ours"])
    assert list(access.visible_customers(world["alice"])).count(world["ours"]) == 1


def test_a_customer_outside_the_agents_teams_is_a_404(client, world):
    client.force_login(world["alice"].user)
    for customer in ("theirs", "lonely"):
        assert client.get(reverse("customer_detail", args=[world[customer].pk])).status_code == 404
    assert client.get(reverse("customer_detail", args=[999999])).status_code == 404
    assert client.get(reverse("customer_detail", args=[world["ours"].pk])).status_code == 200


def test_the_customer_page_lists_only_the_tickets_the_agent_may_see(client, world):
    client.force_login(world["alice"].user)
    page = client.get(reverse("customer_detail", args=[world["shared"].pk])).content.decode()
    assert "Shared with us" in page and "Shared with billing" not in page
    client.force_login(world["supervisor"].user)
    page = client.get(reverse("customer_detail", args=[world["shared"].pk])).content.decode()
    assert "Shared with us" in page and "Shared with billing" in page
    assert client.get(reverse("customer_detail", args=[world["lonely"].pk])).status_code == 200


def _chat(team, user_id):
    customer = f.customer(user_id=user_id)
    chat, _ = chat_services.start_or_resume_chat(site(team, key=f"site-{user_id}"), customer, "Hello")
    return chat


def test_a_chat_of_another_team_is_a_404_and_stays_untouched(client, world):
    theirs = _chat(world["billing"], "chat-theirs")
    client.force_login(world["alice"].user)
    assert client.post(reverse("chat_take", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("chat_close", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == Chat.State.WAITING
    assert theirs.conversation.ticket.assignee is None
    assert client.post(reverse("chat_take", args=[999999])).status_code == 404


def test_chat_helpers_follow_the_ticket_rule(world):
    ours, theirs = _chat(world["support"], "chat-ours"), _chat(world["billing"], "chat-theirs")
    assert set(access.visible_chats(world["alice"])) == {ours}
    assert access.chat_or_404(world["alice"], ours.pk) == ours
    with pytest.raises(Http404):
        access.chat_or_404(world["alice"], theirs.pk)
    assert set(access.visible_chats(world["supervisor"])) == {ours, theirs}
    assert not access.visible_chats(world["homeless"]).exists()


def test_a_session_link_is_reached_only_through_its_visible_ticket(client, world):
    our_link = SessionLink.objects.create(ticket=world["our_ticket"], session_id="ses_ours123456")
    their_link = SessionLink.objects.create(ticket=world["their_ticket"], session_id="ses_theirs1234")
    alice = world["alice"]
    assert access.session_link_or_none(alice, world["our_ticket"], "ses_ours123456") == our_link
    assert access.session_link_or_none(alice, world["their_ticket"], "ses_theirs1234") is None
    assert access.session_link_or_none(alice, world["our_ticket"], "ses_theirs1234") is None  # another ticket's
    assert access.session_link_or_none(alice, world["our_ticket"], 42) is None
    assert access.session_link_or_none(world["admin"], world["their_ticket"], "ses_theirs1234") == their_link
    # Through the bridge: reporting on a session of another ticket finds nothing.
    client.force_login(alice.user)
    response = client.post(reverse("cobrowse_bridge", args=[world["our_ticket"].pk]),
                           json.dumps({"event": "left", "session_id": "ses_theirs1234"}),
                           content_type="application/json")
    assert response.status_code == 404
    assert not world["their_ticket"].events.filter(verb__startswith="cobrowse").exists()


# Where an agent reaches objects: these modules look them up only through helpdesk.access.
DOORS = [
    "helpdesk/views/common.py", "helpdesk/views/customers.py", "helpdesk/views/tickets.py",
    "helpdesk/chat/views.py", "helpdesk/consumers.py", "helpdesk/chat/consumers.py",
    "integrations/cobrowse/views.py", "integrations/cobrowse/supervision.py",
]
BYPASS = re.compile(r"\b(Ticket|Customer|Chat|SessionLink)\.objects\b|get_object_or_404\(|\.session_links\b"
                    r"|services\.visible_(tickets|chats)\b")


@pytest.mark.parametrize("module", DOORS)
def test_views_and_consumers_reach_objects_only_through_the_access_helpers(module):
    source = (ROOT / module).read_text()
    assert not BYPASS.findall(source), f"{module} looks objects up without helpdesk.access"

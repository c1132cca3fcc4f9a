"""Cached parts of the ticket pages (list column, fragments of the ticket page) show every change on the next render."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from helpdesk import services
from helpdesk.events import Verb
from helpdesk.chat import services as chat_services
from helpdesk.chat.models import Chat, ChatSite
from helpdesk.consumers import _join, _leave
from helpdesk.fragments import CSRF_HOLE, render_fragment
from helpdesk.models import Message
from integrations.cobrowse import services as cobrowse
from integrations.cobrowse.client import Unavailable
from integrations.cobrowse.models import SessionLink
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(support):
    return f.ticket(support, f.customer(name="Carla Customer"), subject="Printer on fire", body="It smokes")


def page(client, ticket):
    return client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()


def thread(client, ticket):
    return client.get(reverse("ticket_fragment", args=[ticket.pk, "thread"])).content.decode()


def listing(client, **query):
    return client.get(reverse("ticket_list"), query).content.decode()


def test_replies_notes_and_customer_messages_show_on_the_next_render(as_alice, alice, ticket):
    assert "It smokes" in page(as_alice, ticket) and "It smokes" in thread(as_alice, ticket)
    services.reply(ticket, alice, "Unplug it")
    services.reply(ticket, alice, "Sent a technician", internal=True)
    services.customer_message(ticket, "Still smoking")
    for html in (page(as_alice, ticket), thread(as_alice, ticket)):
        assert "Unplug it" in html and "Sent a technician" in html and "Still smoking" in html


def test_status_and_assignment_show_in_the_header_list_and_activity(as_alice, alice, support, ticket):
    colleague = f.agent(support, name="Bob Colleague")
    before = page(as_alice, ticket)
    assert "Close ticket" in before and "Bob Colleague" not in listing(as_alice)
    services.assign(ticket, colleague, alice)
    services.change_status(ticket, "pending", alice)
    after = page(as_alice, ticket)
    assert "Set pending" not in after and "status-pending" in after
    assert "Alice Agent assigned the ticket to Bob Colleague" in after and "Alice Agent set the status to pending" in after
    assert "Bob Colleague" in listing(as_alice) and "Printer on fire" in listing(as_alice, status="pending")
    services.change_status(ticket, "closed", alice)
    assert "Reopen ticket" in page(as_alice, ticket) and "Alice Agent closed the ticket" in page(as_alice, ticket)


def test_new_events_show_in_the_activity(as_alice, alice, ticket):
    assert "used the laser" not in page(as_alice, ticket)
    services.record(ticket, alice, Verb.COBROWSE_TOOL, session_id="s1", tool="laser")
    assert "Alice Agent used the laser" in page(as_alice, ticket)


class FakeService:
    def __init__(self, answer):
        self.answer = answer

    def end_session(self, session_id):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_cobrowse_link_changes_show_on_the_next_render(as_alice, alice, ticket, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    link = SessionLink.objects.create(ticket=ticket, session_id="ses_cache_1", agent=alice, state="active")
    assert 'data-state="active"' in page(as_alice, ticket) and "ending…" not in page(as_alice, ticket)
    with django_capture_on_commit_callbacks(execute=True):
        services.close_ticket(ticket, alice)
    assert "ending…" in page(as_alice, ticket)
    monkeypatch.setattr(cobrowse, "admin_client", lambda: FakeService(Unavailable("service down")))
    with django_capture_on_commit_callbacks(execute=True):
        cobrowse.try_end(link.pk)
    assert "retrying: service down" in page(as_alice, ticket)
    monkeypatch.setattr(cobrowse, "admin_client", lambda: FakeService({"id": link.session_id, "state": "ended"}))
    with django_capture_on_commit_callbacks(execute=True):
        cobrowse.try_end(link.pk)
    html = page(as_alice, ticket)
    assert 'data-state="ended"' in html and "retrying" not in html and "ending…" not in html


def test_chat_state_and_presence_show_on_the_next_render(as_alice, alice, support, ticket,
                                                         django_capture_on_commit_callbacks):
    site = ChatSite.objects.create(key="cache-site", name="Shop", team=support)
    chat = Chat.objects.create(site=site, customer=ticket.customer, conversation=ticket.conversation)
    assert "chat-state-waiting" in page(as_alice, ticket) and "Customer is online" not in page(as_alice, ticket)
    with django_capture_on_commit_callbacks(execute=True):
        chat_services.take_chat(chat, alice)
        chat_services.customer_connected(chat)
    html = page(as_alice, ticket)
    assert "chat-state-active" in html and "Customer is online" in html


def test_viewers_show_on_the_next_render(as_alice, support, ticket):
    bob = f.agent(support, name="Bob Viewer")
    assert "Viewing now" not in page(as_alice, ticket)
    _join.func(ticket.pk, bob, "channel-1")
    assert "Viewing now: Bob Viewer" in page(as_alice, ticket)
    _leave.func(ticket.pk, "channel-1")
    assert "Viewing now" not in page(as_alice, ticket)


def test_a_new_agent_is_offered_for_assignment(as_alice, support, ticket):
    page(as_alice, ticket)
    f.agent(support, name="Newly Hired")
    assert ">Newly Hired</option>" in page(as_alice, ticket)


def csrf_inputs(html):
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]*)"', html)


def test_cached_forms_carry_each_agents_own_csrf_token(alice, support, ticket):
    """The fragments are shared between agents; the CSRF token in their forms is each response's own."""
    bob = f.agent(support, name="Bob Colleague")
    pages = []
    for agent in (alice, bob):  # alice's view renders the fragments, bob's takes them from the cache
        client = Client(enforce_csrf_checks=True)
        client.force_login(agent.user)
        html = page(client, ticket)
        tokens = csrf_inputs(html)
        assert len(tokens) >= 4 and all(tokens) and str(CSRF_HOLE) not in html  # logout, assign, status, reply
        pages.append((client, tokens[-1]))
    for client, token in pages:
        response = client.post(reverse("ticket_reply", args=[ticket.pk]), {"body": "Sent", "csrfmiddlewaretoken": token})
        assert response.status_code == 302, response.content[:300]
    assert ticket.conversation.messages.filter(body="Sent").count() == 2
    pushed = render_fragment(ticket.pk, "header")
    assert csrf_inputs(pushed) == ["", ""] and str(CSRF_HOLE) not in pushed  # htmx sends the page's own token


def test_a_second_view_renders_no_panel(as_alice, ticket, django_assert_max_num_queries):
    page(as_alice, ticket)
    with django_assert_max_num_queries(4):  # session, user with agent, ticket, versions
        assert "Printer on fire" in page(as_alice, ticket)


def test_admin_edits_of_customers_agents_and_messages_show_everywhere(as_alice, admin_client, alice, ticket):
    services.reply(ticket, alice, "On my way")
    assert "Carla Customer" in page(as_alice, ticket) and "Carla Customer" in listing(as_alice)

    customer = ticket.customer
    response = admin_client.post(reverse("admin:helpdesk_customer_change", args=[customer.pk]), {
        "name": "Carla Renamed", "user_id": customer.user_id, "email": customer.email,
        "created_at_0": customer.created_at.strftime("%Y-%m-%d"), "created_at_1": customer.created_at.strftime("%H:%M:%S"),
    })
    assert response.status_code == 302
    response = admin_client.post(reverse("admin:helpdesk_agent_change", args=[alice.pk]), {
        "user": alice.user_id, "team": alice.team_id, "role": alice.role, "display_name": "Alice Renamed",
    })
    assert response.status_code == 302
    message = Message.objects.get(body="On my way")
    response = admin_client.post(reverse("admin:helpdesk_conversation_change", args=[message.conversation_id]), {
        "ticket": ticket.pk, "created_at_0": "2024-01-01", "created_at_1": "10:00:00",
        "messages-TOTAL_FORMS": "2", "messages-INITIAL_FORMS": "2", "messages-MIN_NUM_FORMS": "0",
        "messages-MAX_NUM_FORMS": "1000",
        **{f"messages-{i}-{k}": v for i, m in enumerate(Message.objects.filter(conversation=message.conversation))
           for k, v in {"id": m.pk, "conversation": m.conversation_id, "kind": m.kind, "author": m.author_id or "",
                        "body": "Edited in the admin" if m.pk == message.pk else m.body,
                        "created_at_0": m.created_at.strftime("%Y-%m-%d"),
                        "created_at_1": m.created_at.strftime("%H:%M:%S")}.items()},
    })
    assert response.status_code == 302, response.content.decode()[-2000:]

    html = page(as_alice, ticket)
    assert "Carla Renamed" in html and "Carla Customer" not in html
    assert "Alice Renamed" in html and "Edited in the admin" in html and "On my way" not in html
    assert "Carla Renamed" in listing(as_alice)


def test_messages_added_outside_the_services_show(as_alice, ticket):
    assert "Imported later" not in page(as_alice, ticket)
    Message.objects.create(conversation=ticket.conversation, kind="customer", body="Imported later")
    assert "Imported later" in page(as_alice, ticket)


def test_another_teams_ticket_stays_hidden_after_a_colleague_rendered_it(client, as_alice, ticket):
    page(as_alice, ticket)
    outsider = f.agent(f.team("Billing"))
    client.force_login(outsider.user)
    assert client.get(reverse("ticket_detail", args=[ticket.pk])).status_code == 404
    assert "Printer on fire" not in listing(client)

"""Cached parts of the ticket pages (list column, fragments of the ticket page) show every change on the next render."""

import re
import time

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


# --- The whole page, cached per agent -----------------------------------------------------------


def me(html):
    """The navigation's signed-in agent: name, then role and team."""
    return re.search(r'<span class="me-text">(.*?)</span>', html, re.S).group(1)


def drawn_templates(client, url):
    from django.test.signals import template_rendered

    names = []

    def seen(sender, template, **kwargs):
        names.append(template.name)

    template_rendered.connect(seen)
    try:
        client.get(url)
    finally:
        template_rendered.disconnect(seen)
    return names


def test_a_second_view_draws_no_template(as_alice, ticket):
    url = reverse("ticket_detail", args=[ticket.pk])
    assert "tickets/detail.html" in drawn_templates(as_alice, url)
    assert drawn_templates(as_alice, url) == []
    services.customer_message(ticket, "Any news?")
    assert "tickets/detail.html" in drawn_templates(as_alice, url)


def test_each_agent_sees_their_own_navigation(alice, support, ticket):
    bob = f.agent(support, name="Bob Colleague")
    sam = f.agent(None, role="supervisor", name="Sam Supervisor")
    seen = {}
    for agent in (alice, bob, sam, alice):
        client = Client()
        client.force_login(agent.user)
        html = page(client, ticket)
        seen[agent.display_name] = (me(html), "Co-browse sessions" in html)
    assert "Alice Agent" in seen["Alice Agent"][0] and "Bob" not in seen["Alice Agent"][0]
    assert "Bob Colleague" in seen["Bob Colleague"][0] and "Alice" not in seen["Bob Colleague"][0]
    assert "Sam Supervisor" in seen["Sam Supervisor"][0] and seen["Sam Supervisor"][1]
    assert not seen["Alice Agent"][1] and not seen["Bob Colleague"][1]


def test_a_change_to_the_agent_made_outside_the_admin_shows(as_alice, alice, ticket):
    assert "Co-browse sessions" not in page(as_alice, ticket)
    type(alice).objects.filter(pk=alice.pk).update(role="supervisor", display_name="Alice Promoted")
    html = page(as_alice, ticket)
    assert "Alice Promoted" in me(html) and "Supervisor" in me(html) and "Co-browse sessions" in html


def test_a_customer_edited_outside_the_admin_shows(as_alice, ticket):
    assert "Carla Customer" in page(as_alice, ticket)
    type(ticket.customer).objects.filter(pk=ticket.customer_id).update(name="Carla Imported", email="carla@new.example")
    html = page(as_alice, ticket)
    assert "Carla Imported" in html and "carla@new.example" in html


def test_a_flash_message_shows_once_on_the_cached_page(as_alice, ticket):
    page(as_alice, ticket)  # cached
    response = as_alice.post(reverse("ticket_reply", args=[ticket.pk]), {"body": "On it"}, follow=True)
    assert b"Reply sent." in response.content and b"On it" in response.content
    assert "Reply sent." not in page(as_alice, ticket)


def test_the_list_filters_of_the_url_are_part_of_the_page(as_alice, alice, support, ticket):
    f.ticket(support, f.customer(), subject="Closed one")
    services.change_status(type(ticket).objects.get(subject="Closed one"), "closed", alice)
    url = reverse("ticket_detail", args=[ticket.pk])
    assert "Closed one" not in as_alice.get(url).content.decode()
    assert "Closed one" in as_alice.get(url, {"status": "closed"}).content.decode()
    assert "Closed one" not in as_alice.get(url).content.decode()


def test_a_new_cobrowse_token_shows_on_the_next_view(as_alice, alice, ticket):
    from integrations.cobrowse import tokens

    def token(html):
        return re.search(r'data-config="[^"]*?&quot;token&quot;: &quot;([^&]+)&quot;', html).group(1)

    first = token(page(as_alice, ticket))
    assert first == tokens.agent_token(alice)
    time.sleep(1.1)  # a token minted in the same second, with the same claims, is the same token
    renewed = tokens.agent_token(alice, refresh=True)
    assert renewed != first and token(page(as_alice, ticket)) == renewed


def test_with_debug_on_every_view_is_drawn(as_alice, ticket, settings):
    settings.DEBUG = True
    url = reverse("ticket_detail", args=[ticket.pk])
    for _ in range(2):
        assert "tickets/detail.html" in drawn_templates(as_alice, url)

import io

import pytest
from django.urls import reverse

from helpdesk import services
from helpdesk.models import Agent, Event, Message, Ticket
from tests import factories as f

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def billing():
    return f.team("Billing")


def test_login_page_and_sign_in_with_a_password(client, alice):
    assert client.get(reverse("ticket_list")).status_code == 302
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b"Sign in" in page.content
    bad = client.post(reverse("login"), {"username": alice.user.username, "password": "wrong"})
    assert bad.status_code == 200 and b"correct username and password" in bad.content
    ok = client.post(reverse("login"), {"username": alice.user.username, "password": f.PASSWORD})
    assert ok.status_code == 302 and ok["Location"] == reverse("ticket_list")
    assert client.get(reverse("ticket_list")).status_code == 200


def test_logout_signs_out(as_alice):
    response = as_alice.post(reverse("logout"))
    assert response.status_code == 302
    assert as_alice.get(reverse("ticket_list")).status_code == 302


def test_a_user_without_agent_profile_is_forbidden(client, django_user_model):
    user = django_user_model.objects.create_user("plain", "p@example.com", "x")
    client.force_login(user)
    assert client.get(reverse("ticket_list")).status_code == 403


def test_list_shows_only_the_agents_team(as_alice, support, billing):
    mine = f.ticket(support, subject="Support problem")
    f.ticket(billing, subject="Billing problem")
    page = as_alice.get(reverse("ticket_list")).content.decode()
    assert "Support problem" in page and "Billing problem" not in page
    assert reverse("ticket_detail", args=[mine.pk]) in page


def test_supervisor_sees_all_teams_and_can_filter_by_team(client, support, billing):
    sup = f.agent(support, role=Agent.Role.SUPERVISOR)
    client.force_login(sup.user)
    f.ticket(support, subject="Support problem")
    f.ticket(billing, subject="Billing problem")
    page = client.get(reverse("ticket_list"), {"status": "all"}).content.decode()
    assert "Support problem" in page and "Billing problem" in page
    page = client.get(reverse("ticket_list"), {"team": billing.pk}).content.decode()
    assert "Support problem" not in page and "Billing problem" in page


def test_filters_status_mine_and_search(as_alice, support, alice):
    open_t = f.ticket(support, subject="Printer on fire")
    closed_t = f.ticket(support, subject="Old closed thing")
    services.close_ticket(closed_t, alice)
    mine = f.ticket(support, subject="Mine to fix")
    services.assign(mine, alice, alice)
    by_name = f.ticket(support, f.customer(name="Zed Zebra"), subject="Other")
    url = reverse("ticket_list")
    default = as_alice.get(url).content.decode()
    assert "Printer on fire" in default and "Old closed thing" not in default
    closed = as_alice.get(url, {"status": "closed"}).content.decode()
    assert "Old closed thing" in closed and "Printer on fire" not in closed
    only_mine = as_alice.get(url, {"assignee": "me"}).content.decode()
    assert "Mine to fix" in only_mine and "Printer on fire" not in only_mine
    search = as_alice.get(url, {"q": "printer"}).content.decode()
    assert "Printer on fire" in search and "Mine to fix" not in search
    search_customer = as_alice.get(url, {"q": "zebra"}).content.decode()
    assert "Zed Zebra" in search_customer and "Printer on fire" not in search_customer
    assert open_t and by_name


def test_bad_filter_values_give_a_message_not_an_error(as_alice, support):
    f.ticket(support, subject="Visible")
    response = as_alice.get(reverse("ticket_list"), {"status": "bogus", "assignee": "x'; drop"})
    assert response.status_code == 200
    assert b"Unknown assignee filter" in response.content


def test_pagination(as_alice, support):
    customer = f.customer()
    for i in range(30):
        f.ticket(support, customer, subject=f"Numbered {i:02d}")
    first = as_alice.get(reverse("ticket_list")).content.decode()
    second = as_alice.get(reverse("ticket_list"), {"page": 2}).content.decode()
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert first.count("Numbered") == 25 and second.count("Numbered") == 5


def test_htmx_list_request_returns_only_the_fragment(as_alice, support):
    f.ticket(support, subject="Fragment row")
    response = as_alice.get(reverse("ticket_list"), {"q": "Fragment"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="ticket-list")
    body = response.content.decode()
    assert "Fragment row" in body and "<html" not in body


def test_ticket_page_shows_the_thread_and_forms(as_alice, support, alice):
    ticket = f.ticket(support, subject="Thread test", body="First words")
    services.reply(ticket, alice, "Agent answer")
    services.reply(ticket, alice, "Secret note", internal=True)
    page = as_alice.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    for text in ("Thread test", "First words", "Agent answer", "Secret note", "Internal note", "Send reply", "Close ticket"):
        assert text in page


def test_another_teams_ticket_is_a_404_everywhere(as_alice, billing):
    theirs = f.ticket(billing)
    for name in ("ticket_detail",):
        assert as_alice.get(reverse(name, args=[theirs.pk])).status_code == 404
    for name, data in (("ticket_reply", {"body": "x"}), ("ticket_status", {"status": "closed"}), ("ticket_assign", {"assignee": ""})):
        assert as_alice.post(reverse(name, args=[theirs.pk]), data).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "open"
    assert Message.objects.filter(conversation__ticket=theirs).count() == 1


def test_reply_without_js_redirects_with_a_message(as_alice, support):
    ticket = f.ticket(support)
    response = as_alice.post(reverse("ticket_reply", args=[ticket.pk]), {"body": "Hello there", "action": "reply"}, follow=True)
    assert response.status_code == 200 and b"Reply sent." in response.content
    assert Message.objects.filter(conversation__ticket=ticket, kind="agent", body="Hello there").exists()


def test_reply_with_htmx_returns_the_new_thread(as_alice, support):
    ticket = f.ticket(support)
    response = as_alice.post(reverse("ticket_reply", args=[ticket.pk]), {"body": "<script>alert(1)</script>", "action": "reply"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body
    assert 'id="thread-and-compose"' in body


def test_internal_note_button(as_alice, support):
    ticket = f.ticket(support)
    as_alice.post(reverse("ticket_reply", args=[ticket.pk]), {"body": "note text", "action": "note"}, **HTMX)
    assert Message.objects.get(conversation__ticket=ticket, body="note text").kind == "note"


def test_empty_reply_gets_a_clear_error_and_nothing_is_stored(as_alice, support):
    ticket = f.ticket(support)
    response = as_alice.post(reverse("ticket_reply", args=[ticket.pk]), {"body": "   "}, **HTMX)
    assert response.status_code == 422
    assert b"The message is empty." in response.content
    assert response["HX-Retarget"] == "#compose"
    assert Message.objects.filter(conversation__ticket=ticket).count() == 1
    no_js = as_alice.post(reverse("ticket_reply", args=[ticket.pk]), {"body": ""}, follow=True)
    assert b"The message is empty." in no_js.content


def test_status_change_and_unknown_status(as_alice, support):
    ticket = f.ticket(support)
    response = as_alice.post(reverse("ticket_status", args=[ticket.pk]), {"status": "pending"}, **HTMX)
    assert response.status_code == 200 and b"Status set to pending." in response.content
    bad = as_alice.post(reverse("ticket_status", args=[ticket.pk]), {"status": "archived"}, **HTMX)
    assert bad.status_code == 422 and b"Unknown status: archived." in bad.content
    ticket.refresh_from_db()
    assert ticket.status == "pending"


def test_closing_a_closed_ticket_shows_a_message_and_changes_nothing(as_alice, support, alice):
    ticket = f.ticket(support)
    as_alice.post(reverse("ticket_status", args=[ticket.pk]), {"status": "closed"})
    response = as_alice.post(reverse("ticket_status", args=[ticket.pk]), {"status": "closed"}, follow=True)
    assert b"This ticket is already closed." in response.content
    assert Event.objects.filter(ticket=ticket, verb="closed").count() == 1


def test_assignment_through_the_page(as_alice, support, alice):
    ticket = f.ticket(support)
    response = as_alice.post(reverse("ticket_assign", args=[ticket.pk]), {"assignee": alice.pk}, **HTMX)
    assert response.status_code == 200 and b"Assigned to Alice Agent." in response.content
    ticket.refresh_from_db()
    assert ticket.assignee == alice
    outsider = f.agent(f.team("Elsewhere"))
    bad = as_alice.post(reverse("ticket_assign", args=[ticket.pk]), {"assignee": outsider.pk}, **HTMX)
    assert bad.status_code == 422
    ticket.refresh_from_db()
    assert ticket.assignee == alice


def test_customer_page_lists_their_visible_tickets(as_alice, support, billing):
    customer = f.customer(name="Carla Customer")
    f.ticket(support, customer, subject="Visible one")
    f.ticket(billing, customer, subject="Hidden one")
    page = as_alice.get(reverse("customer_detail", args=[customer.pk])).content.decode()
    assert "Carla Customer" in page and "Visible one" in page and "Hidden one" not in page


def test_list_and_detail_query_counts_do_not_grow_with_data(as_alice, support, alice, django_assert_max_num_queries):
    def build(n):
        for i in range(n):
            t = f.ticket(support, f.customer())
            services.assign(t, alice, alice)
            services.reply(t, alice, "reply")
        return t

    t = build(3)
    with django_assert_max_num_queries(9) as small_list:
        as_alice.get(reverse("ticket_list"))
    with django_assert_max_num_queries(17) as small_detail:
        as_alice.get(reverse("ticket_detail", args=[t.pk]))
    t = build(20)
    for _ in range(20):
        services.reply(t, alice, "more")
    with django_assert_max_num_queries(len(small_list.captured_queries)):
        as_alice.get(reverse("ticket_list"))
    with django_assert_max_num_queries(len(small_detail.captured_queries)):
        as_alice.get(reverse("ticket_detail", args=[t.pk]))


def test_seed_demo_is_idempotent():
    from django.core.management import call_command

    call_command("seed_demo", "--force", stdout=io.StringIO())
    counts = (Ticket.objects.count(), Agent.objects.count(), Message.objects.count())
    call_command("seed_demo", "--force", stdout=io.StringIO())
    assert counts == (Ticket.objects.count(), Agent.objects.count(), Message.objects.count())
    assert counts[0] == 60 and counts[1] == 4
    assert Agent.objects.filter(role="supervisor").count() == 1 and Agent.objects.filter(role="admin").count() == 1

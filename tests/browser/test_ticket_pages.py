"""The ticket pages in real headless Chromium: sign in, read, reply, change status with htmx."""

import pytest

from helpdesk.models import Message
from tests import factories as f
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded():
    support = f.team("Support")
    alice = f.agent(support, name="Alice Agent")
    ticket = f.ticket(support, f.customer(name="Browser Customer"), subject="Screen goes blank")
    return alice, ticket




def test_agent_signs_in_replies_and_changes_status_without_reloading(page, live_server, seeded):
    alice, ticket = seeded
    sign_in(page, live_server.url, alice)
    page.click("text=Screen goes blank")
    page.wait_for_selector("#thread")
    page.wait_for_load_state("load")  # htmx has set the page up
    page.evaluate("window.__marker = 'same page'")
    navigations = []
    page.on("request", lambda r: r.is_navigation_request() and navigations.append((r.method, r.url)))

    page.fill("#reply-body", "")
    page.click("button[value=reply]")
    page.wait_for_selector("#compose .error")
    page.wait_for_function("() => !document.querySelector('.htmx-added, .htmx-settling, .htmx-swapping')")
    assert page.inner_text("#compose .error") == "The message is empty."

    page.fill("#reply-body", "Have you tried turning it off and on?")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#thread >> text=Have you tried turning it off and on?")
    assert page.input_value("#reply-body") == ""

    page.click("button[value=pending]")
    page.wait_for_selector(".flash-success")
    assert page.inner_text("#ticket-header .badge.status-pending") == "Pending"
    assert page.evaluate("window.__marker") == "same page", navigations  # htmx swapped fragments, no reload
    assert Message.objects.filter(conversation__ticket=ticket, body="Have you tried turning it off and on?").exists()
    ticket.refresh_from_db()
    assert ticket.status == "pending"


def test_search_filters_the_list_as_you_type(page, live_server, seeded):
    alice, ticket = seeded
    f.ticket(ticket.team, subject="Unrelated invoice")
    sign_in(page, live_server.url, alice)
    page.keyboard.press("/")
    page.keyboard.type("blank")
    page.wait_for_function("() => !document.body.innerText.includes('Unrelated invoice')")
    assert "Screen goes blank" in page.inner_text("#ticket-list")
    assert "q=blank" in page.url

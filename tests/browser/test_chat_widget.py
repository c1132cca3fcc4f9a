"""Live chat in real Chromium: a customer page with the widget chats with an agent's ticket page
(both directions, live), and the agent closes the chat: Event recorded, the widget shows it, and
the co-browse session linked to the ticket is ended at the Cobrowse sandbox."""


import pytest
from django.core.management import call_command

from helpdesk.chat.models import Chat, ChatSite
from helpdesk.models import Event
from integrations.cobrowse.models import SessionLink
from tests import factories as f
from tests.browser.helpers import sign_in, wait_for
from tests.chat.servers import HelpdeskServer
from tests.integration.test_cobrowse_flow import active_session_for

pytestmark = [pytest.mark.browser, pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(tmp_path, cobrowse_on_sandbox, settings):
    sb = cobrowse_on_sandbox
    helpdesk = HelpdeskServer(tmp_path / "helpdesk", CHAT_DEMO_PAGE="1", COBROWSE_API=sb.url,
                              COBROWSE_LICENSE_KEY=sb.license_key,
                              COBROWSE_PRIVATE_KEY_FILE=str(settings.COBROWSE_PRIVATE_KEY_FILE),
                              REDIS_URL="")
    try:
        yield helpdesk.start()
    finally:
        helpdesk.stop()




def test_customer_widget_and_agent_ticket_page_chat_live_and_agent_closes_the_chat(
        server, cobrowse_on_sandbox, page, browser):
    sb = cobrowse_on_sandbox
    support = f.team("Support")
    alice = f.agent(support, name="Alice Agent")
    ChatSite.objects.create(key="demo", name="Demo shop", team=support, allowed_origins=server.url)

    # The customer, on the demo shop page (its backend signed the identity), opens the widget.
    page.goto(f"{server.url}/demo/chat/?user_id=cust-77&name=Carla")
    page.click(".hdw-launcher")
    page.wait_for_selector(".hdw-status >> text=Online")
    page.fill(".hdw-input", "Hi! <b>bold?</b> <img src=x onerror=alert(1)>")
    page.keyboard.press("Enter")
    page.wait_for_selector(".hdw-msg-customer:not(.hdw-msg-pending)")
    assert page.inner_text(".hdw-msg-customer") == "Hi! <b>bold?</b> <img src=x onerror=alert(1)>"
    assert page.locator(".hdw-list img").count() == 0  # text, never HTML
    chat = wait_for(lambda: Chat.objects.select_related("conversation__ticket").first())
    ticket = chat.ticket

    # A live co-browse session with this customer's device is linked to the ticket.
    session_id = active_session_for(sb, alice, "cust-77")
    SessionLink.objects.create(ticket=ticket, session_id=session_id, agent=alice, state="active")

    # The agent opens the ticket in another browser context.
    agent = browser.new_context().new_page()
    sign_in(agent, server.url, alice)
    agent.goto(f"{server.url}/tickets/{ticket.pk}/")
    agent.wait_for_selector("#thread >> text=Hi! <b>bold?</b>")
    agent.wait_for_selector("#chat-panel >> text=Customer is online")
    agent.wait_for_function("() => document.querySelector('#ticket').getAttribute('hx-ext') === 'ws'")
    agent.wait_for_timeout(300)  # the page's websocket is open

    # Customer -> agent, live: first that they are typing, then the message.
    page.type(".hdw-input", "Are you")
    agent.wait_for_selector("#chat-typing >> text=Carla is typing…")
    page.fill(".hdw-input", "Are you there?")
    page.keyboard.press("Enter")
    agent.wait_for_selector("#thread >> text=Are you there?")
    agent.wait_for_selector("#chat-typing", state="hidden", timeout=10_000)  # 5 s after the last notice

    # Agent -> customer, live; the internal note never reaches the widget.
    agent.fill("#reply-body", "Internal: VIP customer")
    agent.click("button[value=note]")
    agent.wait_for_selector("#thread >> text=Internal: VIP customer")
    agent.fill("#reply-body", "Yes, Alice here. How can I help?")
    agent.click("button[value=reply]")
    page.wait_for_selector(".hdw-msg-agent >> text=Yes, Alice here. How can I help?")
    agent.wait_for_selector("#thread >> text=Yes, Alice here. How can I help?")
    # Pushed one message at a time (the agent's own as well as the customer's), each shown once.
    assert agent.eval_on_selector_all("#thread > li.msg .msg-body", "els => els.map(e => e.textContent)") == [
        "Hi! <b>bold?</b> <img src=x onerror=alert(1)>", "Are you there?", "Internal: VIP customer",
        "Yes, Alice here. How can I help?"]
    assert "VIP" not in page.inner_text(".hdw-list")

    # The agent closes the chat.
    agent.click("[data-chat-close]")
    page.wait_for_selector(".hdw-note >> text=The chat has been closed.")
    assert page.inner_text(".hdw-status") == "Chat ended"
    agent.wait_for_selector("#chat-panel .chat-state-closed")
    event = Event.objects.get(ticket=ticket, verb="chat_closed")
    assert event.actor == alice and event.data["reason"] == "agent"

    # ... and the linked co-browse session ends through the durable task path.
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0)
    assert sb.session_raw(session_id)["state"] == "ended"
    assert SessionLink.objects.get(session_id=session_id).ended_at is not None
    agent.context.close()

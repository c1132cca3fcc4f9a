"""Restart daphne while a customer (widget) and an agent (ticket page) are connected: both
reconnect on their own and no message is lost."""

import pytest

from helpdesk.chat.models import Chat, ChatSite
from helpdesk.models import Message
from tests import factories as f
from tests.browser.helpers import sign_in, wait_for
from tests.chat.servers import HelpdeskServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(tmp_path):
    helpdesk = HelpdeskServer(tmp_path / "helpdesk", CHAT_DEMO_PAGE="1", REDIS_URL="", CHAT_GRACE_SECONDS="600")
    try:
        yield helpdesk.start()
    finally:
        helpdesk.stop()




def test_clients_reconnect_and_resume_after_a_daphne_restart(server, page, browser):
    support = f.team("Support")
    alice = f.agent(support, name="Alice Agent")
    ChatSite.objects.create(key="demo", name="Demo shop", team=support, allowed_origins=server.url)

    page.goto(f"{server.url}/demo/chat/?user_id=cust-restart&name=Rita")
    page.click(".hdw-launcher")
    page.wait_for_selector(".hdw-status >> text=Online")
    page.fill(".hdw-input", "Before the restart")
    page.keyboard.press("Enter")
    ticket = wait_for(lambda: Chat.objects.select_related("conversation__ticket").first()).ticket

    agent = browser.new_context().new_page()
    sign_in(agent, server.url, alice)
    agent.goto(f"{server.url}/tickets/{ticket.pk}/")
    agent.wait_for_selector("#thread >> text=Before the restart")
    agent.wait_for_timeout(300)

    server.stop()
    # While the server is down the customer keeps typing: the widget holds the message.
    page.fill(".hdw-input", "Sent while you were down")
    page.keyboard.press("Enter")
    server.start()

    # Both sides come back by themselves; the held message is delivered once.
    wait_for(lambda: Message.objects.filter(conversation__ticket=ticket, body="Sent while you were down").exists(), 30)
    agent.wait_for_selector("#thread >> text=Sent while you were down", timeout=30000)
    page.wait_for_function("() => ['Waiting for an agent', 'Connected', 'Online']"
                           ".includes(document.querySelector('.hdw-status').textContent)", timeout=30000)
    agent.fill("#reply-body", "Back online, Rita")
    agent.click("button[value=reply]")
    page.wait_for_selector(".hdw-msg-agent >> text=Back online, Rita", timeout=15000)
    page.fill(".hdw-input", "Great, thanks")
    page.keyboard.press("Enter")
    agent.wait_for_selector("#thread >> text=Great, thanks", timeout=15000)
    bodies = list(Message.objects.filter(conversation__ticket=ticket).values_list("body", flat=True))
    assert bodies == ["Before the restart", "Sent while you were down", "Back online, Rita", "Great, thanks"]
    # The page got the missed message from its refresh after reconnecting and pushes since: each once.
    assert agent.eval_on_selector_all("#thread > li.msg .msg-body", "els => els.map(e => e.textContent)") == bodies
    agent.context.close()

"""The whole co-browse flow in Chromium: helpdesk ticket page + sandbox embed + customer's device."""

import pytest
from django.core.management import call_command

from helpdesk.models import Event
from integrations.cobrowse.models import SessionLink
from tests import factories as f
from tests.browser.helpers import sign_in, wait_for
from tests.chat.servers import HelpdeskServer

pytestmark = [pytest.mark.browser, pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]




def run_tasks():
    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay", "--no-reload", verbosity=0)


@pytest.fixture
def helpdesk_server(tmp_path, cobrowse_on_sandbox, settings):
    """The helpdesk under daphne (websockets included), on the test database."""
    server = HelpdeskServer(tmp_path / "helpdesk", COBROWSE_API=cobrowse_on_sandbox.url,
                            COBROWSE_LICENSE_KEY=cobrowse_on_sandbox.license_key,
                            COBROWSE_PRIVATE_KEY_FILE=str(settings.COBROWSE_PRIVATE_KEY_FILE), REDIS_URL="")
    try:
        yield server.start()
    finally:
        server.stop()


def test_agent_cobrowses_from_a_ticket_and_closing_it_ends_the_session(cobrowse_on_sandbox, helpdesk_server, context):
    sb = cobrowse_on_sandbox
    team = f.team("Support")
    alice = f.agent(team, name="Alice Agent")
    ticket = f.ticket(team, f.customer(user_id="cust-browser", name="Carla Customer"), subject="Checkout fails")

    device = context.new_page()
    device.goto(f"{sb.url}/demo/shop?user_id=cust-browser&name=Carla&license_key={sb.license_key}")
    device.wait_for_selector("text=Online")

    agent = context.new_page()
    sign_in(agent, helpdesk_server.url, alice)
    agent.goto(f"{helpdesk_server.url}/tickets/{ticket.pk}/")
    agent.wait_for_selector("#cobrowse-devices >> text=Chrome Browser")
    agent.click("text=Connect to Carla Customer")

    device.click("[data-testid=consent-session-allow]", timeout=15000)
    agent.wait_for_function("() => document.querySelector('.cobrowse-status').textContent.includes('linked')", timeout=15000)
    link = wait_for(lambda: SessionLink.objects.filter(ticket=ticket, state="active").first())
    assert link.agent == alice
    agent.wait_for_selector("#cobrowse-links >> text=Active")  # pushed live to the page

    run_tasks()
    raw = sb.session_raw(link.session_id)
    assert raw["custom_data"]["ticket_id"] == str(ticket.pk)
    assert raw["custom_data"]["user_id"] == "cust-browser"

    agent.click("#cobrowse-viewer [data-tool=laser]")
    device.wait_for_selector("text=Agent tool: laser")
    viewer = agent.frame_locator("#cobrowse-frame iframe")
    viewer.locator("#waiting").wait_for(state="hidden")  # the first mirror frame arrived
    box = viewer.locator("#overlay").bounding_box()
    agent.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    agent.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=5)
    device.wait_for_selector("[data-testid=laser]:not([hidden])")

    agent.click("button[value=closed]")
    agent.wait_for_selector("#ticket-header >> text=Closed")
    run_tasks()
    assert sb.session_raw(link.session_id)["state"] == "ended"
    device.wait_for_selector("[data-testid=session-status] >> text=Session ended")
    agent.frame_locator("#cobrowse-frame iframe").locator("[data-testid=session-ended]").wait_for()
    verbs = set(Event.objects.filter(ticket=ticket).values_list("verb", flat=True))
    assert {"cobrowse_linked", "cobrowse_tagged", "cobrowse_tool", "closed", "cobrowse_ended"} <= verbs
    agent.reload()
    activity = agent.locator("#ticket-events").inner_text()
    assert "used the laser" in activity and "Session ended because the ticket was closed" in activity, activity


def test_a_session_whose_device_cannot_be_matched_is_linked_only_when_the_agent_confirms(cobrowse_on_sandbox,
                                                                                        helpdesk_server, context):
    sb = cobrowse_on_sandbox
    team = f.team("Support")
    alice = f.agent(team, name="Alice Agent")
    ticket = f.ticket(team, f.customer(user_id="cust-anon", name="Carla Customer"), subject="Read me a code")
    anonymous = sb.create_device({"user_name": "Visitor"})  # the device does not say who it is
    code = sb.create_code(anonymous["id"])["code"]

    agent = context.new_page()
    sign_in(agent, helpdesk_server.url, alice)
    agent.goto(f"{helpdesk_server.url}/tickets/{ticket.pk}/")
    agent.click("text=Join with a code")
    embed = agent.frame_locator("#cobrowse-frame iframe")
    embed.locator("#code-input").fill(code)
    embed.locator("#code-input").press("Enter")

    agent.wait_for_selector(".cobrowse-status >> text=could not be matched to Carla Customer", timeout=15000)
    assert not SessionLink.objects.exists()
    agent.click(".cobrowse-status >> text=Link it anyway")
    agent.wait_for_function("() => document.querySelector('.cobrowse-status').textContent.includes('linked')", timeout=15000)
    link = wait_for(lambda: SessionLink.objects.filter(ticket=ticket).first())
    assert link.agent == alice
    confirmed = Event.objects.get(ticket=ticket, verb="cobrowse_link_confirmed")
    assert confirmed.actor == alice and confirmed.data["reason"] == "device_without_user_id"
    agent.reload()
    agent.wait_for_selector("#ticket-events >> text=could not be matched to Carla Customer")

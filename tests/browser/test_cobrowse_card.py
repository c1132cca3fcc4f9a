"""The co-browse card in Chromium: the SDK follows only the devices the card shows, online ones move
to the top as their presence arrives, and a refresh keeps the older pages the agent opened."""

from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.cobrowse import devices
from tests import factories as f
from tests.browser.helpers import sign_in
from tests.browser.test_cobrowse_ticket_flow import helpdesk_server  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]

ROWS = "() => Array.from(document.querySelectorAll('#cobrowse-devices [data-device-id]')).map(li => li.dataset.deviceId)"
WINDOWS = """window.cardWindows = [];
document.addEventListener("htmx:afterSwap", function () {
  const shown = document.querySelector("#cobrowse-devices [data-seen-after]");
  if (shown) window.cardWindows.push(shown.dataset.seenAfter);
});"""
REFRESH = """() => new Promise(resolve => {
  document.body.addEventListener("htmx:afterSwap", e => { if (e.detail.target.id === "cobrowse-devices") resolve(); });
  document.body.dispatchEvent(new CustomEvent("cobrowse-refresh"));
})"""


def test_the_card_puts_online_devices_first_and_follows_only_what_it_shows(cobrowse_on_sandbox, helpdesk_server,
                                                                           context):
    sb = cobrowse_on_sandbox
    team = f.team("Support")
    alice = f.agent(team, name="Alice Agent")
    ticket = f.ticket(team, f.customer(user_id="cust-glance", name="Carla Customer"), subject="Slow checkout")
    # Online for two hours: the service's order (last_active) puts it after a device seen minutes ago.
    online = sb.create_device({"user_id": "cust-glance"}, online=True)["id"]
    sb.set_device(online, last_active=2 * 3600)
    offline = sb.create_device({"user_id": "cust-glance"}, online=False)["id"]
    sb.set_device(offline, last_active=600)
    old = sb.create_device({"user_id": "cust-glance"}, online=False)["id"]
    sb.set_device(old, last_active=3 * 86400)

    agent = context.new_page()
    listings = []
    agent.on("request", lambda r: listings.append(r.url)
             if r.method == "GET" and urlsplit(r.url).path.rstrip("/") == "/api/1/devices" else None)
    agent.add_init_script(WINDOWS)
    sign_in(agent, helpdesk_server.url, alice)
    agent.goto(f"{helpdesk_server.url}/tickets/{ticket.pk}/")

    agent.wait_for_selector(f'#cobrowse-devices [data-device-id="{online}"] .presence[data-online="true"]', timeout=15000)
    agent.wait_for_function(f"() => ({ROWS})()[0] === {online!r}")
    assert agent.evaluate(ROWS) == [online, offline]
    assert listings, "the SDK never listed devices"
    windows = agent.evaluate("() => window.cardWindows")
    for url in listings:  # every listing the page's SDK made asked for a window the card showed
        query = parse_qs(urlsplit(url).query)
        assert query["filter_user_id"] == ["cust-glance"] and query["limit"] == [str(devices.PAGE + 1)]
        assert query["seen_after"][0] in windows

    agent.click("#cobrowse-devices [data-devices-more]")
    agent.wait_for_selector(f'#cobrowse-devices [data-device-id="{old}"]')
    assert agent.evaluate(ROWS) == [online, offline, old]
    agent.evaluate(REFRESH)
    assert agent.evaluate(ROWS)[-1] == old  # still open after the refresh
    agent.wait_for_selector("#cobrowse-devices [data-devices-end] >> text=No more devices.")

"""An agent works a ticket with the keyboard alone, in Chromium: sign in, open the ticket, reply,
co-browse with the customer's device, end the session and close the ticket. Every element reached
with Tab shows a visible focus indicator."""

import pytest

from helpdesk.models import Message
from integrations.cobrowse.models import SessionLink
from tests import factories as f
from tests.browser.helpers import wait_for
from tests.browser.test_cobrowse_ticket_flow import helpdesk_server  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]

MAX_TAB_STOPS = 150

# What has the focus, and whether its focus indicator can be seen: an outline (our one indicator)
# whose colour has a contrast of at least 3:1 with the background it is drawn on (WCAG 1.4.11).
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const rgba = (c) => (c.match(/[\\d.]+/g) || []).map(Number).concat([1]).slice(0, 4);
  const luminance = ([r, g, b]) => [r, g, b].map((v) => v / 255)
    .map((v) => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const s = getComputedStyle(el);
  let behind = parseFloat(s.outlineOffset) < 0 ? el : el.parentElement;
  while (behind && rgba(getComputedStyle(behind).backgroundColor)[3] === 0) behind = behind.parentElement;
  const background = behind ? rgba(getComputedStyle(behind).backgroundColor) : [255, 255, 255, 1];
  const colour = rgba(s.outlineColor);
  const [hi, lo] = [luminance(colour), luminance(background)].sort((a, b) => b - a);
  return {
    tag: el.tagName,
    name: (el.getAttribute("aria-label") || el.textContent || el.name || el.id || "").trim().slice(0, 50),
    focusVisible: el.matches(":focus-visible"),
    outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 1 && colour[3] > 0,
    contrast: Math.round((hi + 0.05) / (lo + 0.05) * 100) / 100,
    style: `outline: ${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor} on ${background}`,
  };
}"""


def assert_focus_is_visible(page, stop):
    assert stop["focusVisible"] and stop["outline"] and stop["contrast"] >= 3, (
        f"{stop['tag']} {stop['name']!r} on {page.url} has focus but no visible focus indicator"
        f" ({stop['style']}, contrast {stop['contrast']}:1)")


def tab_to(page, selector, backwards=False):
    """Press Tab (Shift+Tab backwards) until the element matching selector has the focus, checking
    the focus indicator of every element the focus lands on; returns the elements passed."""
    key = "Shift+Tab" if backwards else "Tab"
    stops = []
    for _ in range(MAX_TAB_STOPS):
        page.keyboard.press(key)
        stop = page.evaluate(FOCUSED)
        if stop is None:
            continue  # past the last element the focus leaves the document; the next Tab comes back
        if stop["tag"] == "IFRAME":
            # Inside the Cobrowse embed: a cross-origin page of the Cobrowse service, styled by it.
            stops.append("(co-browse embed)")
            continue
        assert_focus_is_visible(page, stop)
        stops.append(f"{stop['tag']} {stop['name']!r}")
        if focused_matches(page, selector):
            return stops
    raise AssertionError(f"{selector} was not reached in {MAX_TAB_STOPS} Tab presses: {stops}")


def focused_matches(page, selector):
    return page.evaluate("sel => document.activeElement.matches(sel)", selector)


def settled(page):
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")


def test_agent_replies_cobrowses_and_closes_a_ticket_with_the_keyboard_only(
        cobrowse_on_sandbox, helpdesk_server, context):  # noqa: F811
    sb = cobrowse_on_sandbox
    team = f.team("Support")
    alice = f.agent(team, name="Alice Agent")
    ticket = f.ticket(team, f.customer(user_id="cust-keys", name="Carla Customer"), subject="Checkout fails")
    url = helpdesk_server.url

    # The customer's browser, with the Cobrowse SDK of the sandbox's demo shop.
    device = context.new_page()
    device.goto(f"{sb.url}/demo/shop?user_id=cust-keys&name=Carla&license_key={sb.license_key}")
    device.wait_for_selector("text=Online")

    page = context.new_page()
    page.goto(f"{url}/login/")
    if not focused_matches(page, "#id_username"):
        tab_to(page, "#id_username")
    assert_focus_is_visible(page, page.evaluate(FOCUSED))
    page.keyboard.type(alice.user.username)
    tab_to(page, "#id_password")
    page.keyboard.type(f.PASSWORD)
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/tickets/")

    tab_to(page, f"#ticket-list a[href^='/tickets/{ticket.pk}/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tickets/{ticket.pk}/**")
    page.wait_for_selector("#cobrowse-devices >> text=Chrome Browser")
    settled(page)

    tab_to(page, "#reply-body")
    page.keyboard.type("Could you share your screen with me?")
    tab_to(page, "button[value=reply]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#thread >> text=Could you share your screen with me?")
    # The push of the new message can beat the form's own answer, which empties the form.
    page.wait_for_function("() => document.querySelector('#reply-body').value === ''")
    settled(page)
    assert Message.objects.filter(conversation__ticket=ticket, author=alice,
                                  body="Could you share your screen with me?").exists()

    tab_to(page, "[data-cobrowse-open=connect]")
    page.keyboard.press("Enter")
    device.locator("[data-testid=consent-session-allow]").press("Enter", timeout=15000)
    page.wait_for_function("() => document.querySelector('.cobrowse-status').textContent.includes('linked')",
                           timeout=15000)
    link = wait_for(lambda: SessionLink.objects.filter(ticket=ticket, state=SessionLink.State.ACTIVE).first())
    assert link.agent == alice
    page.wait_for_selector("#cobrowse-links >> text=Active")
    page.wait_for_selector("#cobrowse-viewer [data-action=end]:enabled")

    # Opening the viewer took the focus there: its toolbar is a few Tabs away, not the whole page.
    stops = tab_to(page, "#cobrowse-viewer [data-action=end]")
    assert len(stops) <= 8, stops
    page.keyboard.press("Enter")
    device.wait_for_selector("[data-testid=session-status] >> text=Session ended")
    # End is disabled once the session ended; the focus stays in the viewer rather than dropping.
    page.wait_for_function("() => document.getElementById('cobrowse-viewer').contains(document.activeElement)")
    assert sb.session_raw(link.session_id)["state"] == "ended"
    wait_for(lambda: SessionLink.objects.filter(pk=link.pk, state=SessionLink.State.ENDED).exists())
    page.wait_for_selector(f"#cobrowse-links [data-session-id='{link.session_id}'][data-state=ended]")

    tab_to(page, "#ticket-header button[value=closed]", backwards=True)
    page.keyboard.press("Enter")
    page.wait_for_selector("#ticket-header >> text=Closed")
    ticket.refresh_from_db()
    assert ticket.status == "closed"

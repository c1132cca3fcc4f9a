"""WCAG 2.1 A/AA audits with axe-core, in Chromium, of the pages agents, supervisors and admins work in:
no violation of impact "serious" or "critical" on any of them. Also: new messages reach screen readers."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connections

from helpdesk import services
from helpdesk.chat import services as chat_services
from helpdesk.chat.models import ChatSite
from helpdesk.models import Agent
from helpdesk.webhooks.models import Delivery
from integrations.cobrowse import account, policies
from integrations.cobrowse.models import SessionLink
from tests import factories as f
from tests.browser.helpers import sign_in, wait_for
from tests.browser.test_cobrowse_ticket_flow import helpdesk_server  # noqa: F401 (fixture)
from tests.integration.test_cobrowse_flow import active_session_for
from tests.webhooks.helpers import incoming_endpoint, outgoing_endpoint

pytestmark = [pytest.mark.browser, pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}

# axe runs in the audited page itself. page.evaluate goes through the DevTools protocol, which the
# page's Content-Security-Policy does not govern, so the page keeps its real headers (no bypass_csp)
# and a <script> tag, which that policy would refuse, is not needed. iframes=False: the Cobrowse
# embed is a cross-origin page of the Cobrowse service (the sandbox here); axe checks the <iframe>
# element of our page (its title, ...) but not that page's content.
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
                                          iframes: false});
  return {
    rules: result.passes.length + result.violations.length + result.incomplete.length,
    violations: result.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 160), summary: n.failureSummary})),
    })),
  };
}"""


def audit(page):
    """axe's violations on the page as it is now, and how many rules applied."""
    if not AXE_JS.exists():
        pytest.fail(f"axe-core is missing ({AXE_JS.relative_to(AXE_JS.parents[2])}): make install-dev installs it")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text())
    return page.evaluate(RUN_AXE, TAGS)


def report(violations):
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} element{'s' * (len(v['nodes']) != 1)}): {v['help']}"
                     f" <{v['helpUrl']}>")
        lines += [f"    {n['target']}  {n['html']}\n      {n['summary']}".replace("\n", "\n      ")
                  for n in v["nodes"]]
    return "\n".join(lines)


def assert_no_serious_violations(page):
    result = audit(page)
    assert result["rules"] > 10, "axe ran almost no rules: is this the page?"
    blocking = [v for v in result["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"axe found serious or critical violations on {page.url}:\n{report(blocking)}"


def settled(page):
    """Loaded, and no htmx request running nor content settling."""
    page.wait_for_load_state("load")
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")


def off_the_event_loop(build):
    """build() in a thread of its own. Playwright's sync API keeps an event loop running in the test's
    thread, and the services' live pushes (async_to_sync) refuse to run under one."""
    def run():
        try:
            return build()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


# --- the pages: each builds what makes the page show its parts, opens it and waits until it is whole ---------

def login_page(ctx):
    ctx.page.goto(f"{ctx.url}/login/")
    ctx.page.wait_for_selector("#id_username")


def ticket_list(ctx):
    def build():
        team = f.team("Support")
        agent = f.agent(team, name="Alice Agent")
        customer = f.customer(name="Carla Customer")
        f.ticket(team, customer, subject="Checkout fails", priority="urgent")
        f.ticket(team, customer, subject="Invoice missing", priority="high")
        services.set_pending(f.ticket(team, customer, subject="Password reset", priority="low"), agent)
        services.close_ticket(f.ticket(team, customer, subject="Old question"), agent)
        return agent

    sign_in(ctx.page, ctx.url, off_the_event_loop(build))
    ctx.page.goto(f"{ctx.url}/tickets/?status=all")
    ctx.page.wait_for_selector("#ticket-list >> text=Old question")


def ticket_with_a_cobrowse_session(ctx):
    """A chat ticket (thread, internal note, chat panel, activity) whose agent co-browses with the
    customer's device: the in-page viewer with the Cobrowse embed, and the session linked."""
    sb, page = ctx.sandbox, ctx.page

    def build():
        team = f.team("Support")
        agent = f.agent(team, name="Alice Agent")
        site = ChatSite.objects.create(key="shop", name="Demo shop", team=team, allowed_origins=ctx.url)
        customer = f.customer(user_id="cust-a11y", name="Carla Customer", site=site)
        chat, _ = chat_services.start_or_resume_chat(site, customer, "Hi, the checkout button does nothing.")
        chat_services.take_chat(chat, agent)
        services.reply(chat.ticket, agent, "Let me have a look at your screen.")
        services.reply(chat.ticket, agent, "Customer is on the EU shop.", internal=True)
        return agent, chat.ticket

    agent, ticket = off_the_event_loop(build)
    device = ctx.context.new_page()
    device.goto(f"{sb.url}/demo/shop?user_id=cust-a11y&name=Carla&license_key={sb.license_key}")
    device.wait_for_selector("text=Online")
    sign_in(page, ctx.url, agent)
    page.goto(f"{ctx.url}/tickets/{ticket.pk}/")
    page.wait_for_selector("#cobrowse-devices >> text=Chrome Browser")
    page.click("text=Connect to Carla Customer")
    device.click("[data-testid=consent-session-allow]", timeout=15000)
    page.wait_for_function("() => document.querySelector('.cobrowse-status').textContent.includes('linked')",
                           timeout=15000)
    wait_for(lambda: SessionLink.objects.filter(ticket=ticket, state="active").exists())
    page.wait_for_selector("#cobrowse-links >> text=Active")
    page.wait_for_selector("#cobrowse-state.session-active")
    page.frame_locator("#cobrowse-frame iframe").locator("#waiting").wait_for(state="hidden")


def live_chats(ctx):
    def build():
        team = f.team("Support")
        agent = f.agent(team, name="Alice Agent")
        site = ChatSite.objects.create(key="shop", name="Demo shop", team=team, allowed_origins=ctx.url)
        chat_services.start_or_resume_chat(site, f.customer(user_id="cust-w", name="Walter Waiting", site=site),
                                           "Is anyone there?")
        mine, _ = chat_services.start_or_resume_chat(site, f.customer(user_id="cust-m", name="Mia Mine", site=site),
                                                     "Hello again")
        chat_services.take_chat(mine, agent)
        return agent

    sign_in(ctx.page, ctx.url, off_the_event_loop(build))
    ctx.page.goto(f"{ctx.url}/chats/")
    ctx.page.wait_for_selector("#chat-queue >> text=Walter Waiting")
    ctx.page.wait_for_selector("#chat-queue >> text=Mia Mine")


def customer_page(ctx):
    def build():
        team = f.team("Support")
        agent = f.agent(team, name="Alice Agent")
        customer = f.customer(user_id="cust-7", name="Carla Customer")
        f.ticket(team, customer, subject="Checkout fails")
        services.close_ticket(f.ticket(team, customer, subject="Old question"), agent)
        return agent, customer

    agent, customer = off_the_event_loop(build)
    sign_in(ctx.page, ctx.url, agent)
    ctx.page.goto(f"{ctx.url}/customers/{customer.pk}/")
    ctx.page.wait_for_selector("text=Old question")


def supervisor_sessions(ctx):
    def build():
        team = f.team("Support")
        alice = f.agent(team, name="Alice Agent")
        sam = f.agent(team, role=Agent.Role.SUPERVISOR, name="Sam Supervisor")
        ticket = f.ticket(team, f.customer(user_id="cust-watch", name="Carla"), subject="Cannot pay")
        sid = active_session_for(ctx.sandbox, alice, "cust-watch")
        SessionLink.objects.create(ticket=ticket, session_id=sid, agent=alice, state="active")
        return sam, sid

    sam, sid = off_the_event_loop(build)
    sign_in(ctx.page, ctx.url, sam)
    ctx.page.goto(f"{ctx.url}/supervisor/sessions/")
    ctx.page.wait_for_selector(f"tr[data-session={sid}]")


def supervisor_watch(ctx):
    supervisor_sessions(ctx)
    ctx.page.click("#session-table button:has-text('Watch')")
    ctx.page.wait_for_url("**/supervisor/sessions/watch/**")
    ctx.page.wait_for_function("() => document.querySelector('#watch-state')?.textContent === 'active'")
    ctx.page.frame_locator("#watch-frame iframe").locator("[data-testid=session-state] >> text=active").wait_for()


def supervisor_insights(ctx):
    supervisor_sessions(ctx)
    ctx.page.goto(f"{ctx.url}/supervisor/insights/")
    ctx.page.wait_for_selector("main h1")


def _admin():
    support, billing = f.team("Support"), f.team("Billing")
    f.team("Sales")  # no policy: listed as unrestricted
    admin = f.agent(support, role=Agent.Role.ADMIN, name="Ada Admin")
    policies.save(support, admin, policy={"version": 3, "devices": {"custom_data": {"region": "eu"}}}, enabled=True)
    policies.save(billing, admin, policy={"version": 3, "sessions": {}}, enabled=False)
    return admin, support


def settings_cobrowse_account(ctx):
    def build():
        admin, _ = _admin()
        account.generate_key(admin)  # a pending key: the keys table shows its public key and actions
        return admin

    sign_in(ctx.page, ctx.url, off_the_event_loop(build))
    ctx.page.goto(f"{ctx.url}/settings/cobrowse/")
    ctx.page.wait_for_selector("#keys [data-state=pending]")


def settings_policies(ctx):
    admin, _ = off_the_event_loop(_admin)
    sign_in(ctx.page, ctx.url, admin)
    ctx.page.goto(f"{ctx.url}/settings/policies/")
    ctx.page.wait_for_selector("#policies >> text=In force")


def settings_policy_edit(ctx):
    admin, support = off_the_event_loop(_admin)
    sign_in(ctx.page, ctx.url, admin)
    ctx.page.goto(f"{ctx.url}/settings/policies/{support.pk}/")
    ctx.page.wait_for_selector("#policy-form")
    ctx.page.click("#policy-form button[value=preview]")  # the preview lists the devices the policy lets through
    ctx.page.wait_for_selector("#policy-preview >> text=you would see")


def settings_webhooks(ctx):
    def build():
        admin, support = _admin()
        incoming_endpoint(team=support)
        disabled, _ = incoming_endpoint(name="Old platform")
        disabled.enabled = False
        disabled.save()
        outgoing_endpoint("http://127.0.0.1:9/hook")
        return admin

    sign_in(ctx.page, ctx.url, off_the_event_loop(build))
    ctx.page.goto(f"{ctx.url}/settings/webhooks/")
    ctx.page.wait_for_selector("#incoming >> text=Old platform")
    ctx.page.wait_for_selector("#outgoing >> text=CRM")


def settings_webhook_deliveries(ctx):
    def build():
        admin, _ = _admin()
        endpoint, _ = outgoing_endpoint("http://127.0.0.1:9/hook")
        Delivery.objects.create(endpoint=endpoint, event_type="ticket.closed", payload={"id": "evt_1"},
                                state=Delivery.State.DELIVERED, attempts=1, last_status=200)
        Delivery.objects.create(endpoint=endpoint, event_type="ticket.closed", payload={"id": "evt_2"},
                                state=Delivery.State.PENDING, attempts=2, last_error="Connection refused")
        Delivery.objects.create(endpoint=endpoint, event_type="ticket.closed", payload={"id": "evt_3"},
                                state=Delivery.State.FAILED, attempts=8, last_status=500, response_excerpt="Oops")
        return admin

    sign_in(ctx.page, ctx.url, off_the_event_loop(build))
    ctx.page.goto(f"{ctx.url}/settings/webhooks/deliveries/")
    ctx.page.wait_for_selector("#deliveries [data-state=failed]")


PAGES = [login_page, ticket_list, ticket_with_a_cobrowse_session, live_chats, customer_page,
         supervisor_sessions, supervisor_watch, supervisor_insights,
         settings_cobrowse_account, settings_policies, settings_policy_edit, settings_webhooks,
         settings_webhook_deliveries]


class PageContext:
    def __init__(self, context, url, sandbox):
        self.context, self.url, self.sandbox = context, url, sandbox
        self.page = context.new_page()


@pytest.fixture
def ctx(context, helpdesk_server, cobrowse_on_sandbox):  # noqa: F811
    return PageContext(context, helpdesk_server.url, cobrowse_on_sandbox)


@pytest.mark.parametrize("open_page", PAGES, ids=[p.__name__ for p in PAGES])
def test_page_has_no_serious_accessibility_violations(ctx, open_page):
    open_page(ctx)
    settled(ctx.page)
    assert_no_serious_violations(ctx.page)


def test_the_audit_reports_text_without_enough_contrast(ctx):
    login_page(ctx)
    ctx.page.evaluate("""() => {
      const p = document.createElement("p");
      p.textContent = "Barely readable";
      p.style.color = "#ccc";
      document.querySelector(".login-card").append(p);
    }""")
    result = audit(ctx.page)
    contrast = [v for v in result["violations"] if v["id"] == "color-contrast"]
    assert contrast and contrast[0]["impact"] == "serious"
    assert ["Barely readable" in n["html"] for n in contrast[0]["nodes"]] == [True]


def test_a_new_message_is_added_to_the_thread_live_region_of_every_open_page(ctx):
    """Screen readers announce what is added to a polite live region that is already on the page:
    the pushed message lands in the thread's list itself, which stays the same element."""
    def build():
        team = f.team("Support")
        return (f.agent(team, name="Alice Agent"), f.agent(team, name="Bob Agent"),
                f.ticket(team, f.customer(name="Carla Customer"), subject="Checkout fails"))

    alice, bob, ticket = off_the_event_loop(build)
    sign_in(ctx.page, ctx.url, alice)
    ctx.page.goto(f"{ctx.url}/tickets/{ticket.pk}/")
    thread = ctx.page.locator("#thread")
    assert thread.get_attribute("aria-live") == "polite"
    assert thread.get_attribute("aria-relevant") == "additions"
    ctx.page.wait_for_selector("#ticket-viewers >> text=Alice Agent")  # the page's websocket is open
    thread.evaluate("el => { el.dataset.original = 'yes'; }")

    other = ctx.context.browser.new_context()
    try:
        bobs_page = other.new_page()
        sign_in(bobs_page, ctx.url, bob)
        bobs_page.goto(f"{ctx.url}/tickets/{ticket.pk}/")
        bobs_page.fill("#reply-body", "Bob here, I can take this one.")
        bobs_page.click("button[value=reply]")
        ctx.page.wait_for_selector("#thread > li.msg >> text=Bob here, I can take this one.")
    finally:
        other.close()
    assert ctx.page.locator("#thread[data-original=yes][aria-live=polite] > li.msg").count() == 2

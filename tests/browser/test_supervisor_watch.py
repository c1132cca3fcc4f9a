"""A supervisor counts and watches a live session in Chromium, then leaves without ending it."""

import pytest

from helpdesk.models import Agent, Event
from integrations.cobrowse.models import SessionLink
from tests import factories as f
from tests.browser.helpers import sign_in
from tests.browser.test_cobrowse_ticket_flow import helpdesk_server  # noqa: F401 (fixture)
from tests.integration.test_cobrowse_flow import active_session_for

pytestmark = [pytest.mark.browser, pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]


def test_supervisor_watches_a_session_and_leaves_it_running(cobrowse_on_sandbox, helpdesk_server, page):  # noqa: F811
    sb = cobrowse_on_sandbox
    team = f.team("Support")
    alice = f.agent(team, name="Alice Agent")
    sam = f.agent(team, role=Agent.Role.SUPERVISOR, name="Sam Supervisor")
    ticket = f.ticket(team, f.customer(user_id="cust-watch", name="Carla"), subject="Cannot pay")
    sid = active_session_for(sb, alice, "cust-watch")
    # Linked as the ticket page would have done it (that flow has its own test).
    SessionLink.objects.create(ticket=ticket, session_id=sid, agent=alice, state="active")

    sign_in(page, helpdesk_server.url, sam)
    page.click("text=Co-browse sessions")
    assert page.inner_text("#active-total strong") == "1"
    assert page.inner_text("[data-team=Support] strong") == "1"
    page.click(f"tr[data-session={sid}] >> text=Watch")

    page.wait_for_function("() => document.querySelector('#watch-state').textContent === 'active'")
    embed = page.frame_locator("#watch-frame iframe")
    embed.locator("[data-testid=session-state] >> text=active").wait_for()
    page.wait_for_url(f"**/supervisor/sessions/watch/{sid}/")
    raw = sb.session_raw(sid)
    assert raw["agent"]["email"] == alice.email  # the session is still Alice's
    # The watch token reads only: the supervisor never joins the session nor gets its tools.
    assert sam.email not in [a.get("email") for a in raw["agents"]]
    assert embed.locator("body.read-only").count() == 1
    assert not embed.locator("[data-testid=agent-tools]").is_visible()

    page.click("#leave")
    page.wait_for_url("**/supervisor/sessions/")
    assert sb.session_raw(sid)["state"] == "active"
    verbs = list(Event.objects.filter(ticket=ticket, actor=sam).values_list("verb", flat=True))
    assert verbs == ["cobrowse_watch_started", "cobrowse_watch_left"]

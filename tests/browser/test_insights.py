"""Co-browse insights in Chromium: a supervisor opens the page from the navigation, picks a month,
reads the charts and their tables, downloads the CSV; the screenshot is the README's (docs/insights.png)."""

import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from helpdesk.events import Verb
from helpdesk.models import Agent
from tests import factories as f
from tests.browser.helpers import sign_in
from tests.integration.test_insights import ASKED, ALLOWED, DECLINED, TOOL, session, ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "insights.png"
CAUSES = ["agent"] * 6 + ["customer"] * 4 + ["ticket_closed"] * 3 + ["chat_closed"] * 2 + ["repair", "timeout"]


@pytest.fixture
def november():
    """A month of sessions of four agents in two teams; returns the sessions started per day."""
    rng = random.Random(5)
    support, billing = f.team("Support"), f.team("Billing")
    agents = [f.agent(support, name="Alice Martin"), f.agent(support, name="Dev Patel"),
              f.agent(billing, name="Bob Okafor"), f.agent(billing, name="Chen Wei")]
    sam = f.agent(support, role=Agent.Role.SUPERVISOR, name="Sam Supervisor")
    per_day = Counter()
    n = 0
    for day in range(1, 31):
        for _ in range(rng.choice([0, 1, 2, 3, 3, 4, 5, 6]) if day % 7 else 0):
            agent = rng.choice(agents)
            t = ticket(agent.team, f"2026-11-{day:02d}T08:00:00")
            for extra in range(rng.choice([0, 0, 1])):
                ticket(agent.team, f"2026-11-{day:02d}T08:3{extra}:00")  # tickets without a session
            linked = f"2026-11-{day:02d}T{rng.randint(9, 17):02d}:{rng.randint(10, 59)}:00"
            n += 1
            per_day[date(2026, 11, day)] += 1
            if rng.random() < 0.2:
                session(t, agent, f"ses_{n}", linked, steps=[(0, ASKED, {}), (9, DECLINED, {})],
                        end={"cause": "customer"})
                continue
            steps = [(0, ASKED, {}), (6, ALLOWED, {})]
            steps += [(10 + i, TOOL, {"tool": rng.choice(["laser", "laser", "drawing"])})
                      for i in range(rng.randint(0, 3))]
            if rng.random() < 0.3:
                steps += [(20, Verb.COBROWSE_FULL_DEVICE_REQUESTED, {}), (24, Verb.COBROWSE_FULL_DEVICE_ALLOWED, {})]
            if rng.random() < 0.2:
                steps += [(30, Verb.COBROWSE_REMOTE_CONTROL_REQUESTED, {}),
                          (33, Verb.COBROWSE_REMOTE_CONTROL_ALLOWED, {})]
            session(t, agent, f"ses_{n}", linked, active_after=6, length=rng.randint(60, 1500), steps=steps,
                    end={"cause": rng.choice(CAUSES)})
    return sam, per_day


def test_a_supervisor_reads_a_month_of_co_browse_insights(page, live_server, november):
    sam, per_day = november
    sign_in(page, live_server.url, sam)
    page.click("nav >> text=Co-browse insights")
    page.wait_for_url("**/supervisor/insights/")
    assert page.get_attribute("nav a[href='/supervisor/insights/']", "aria-current") == "page"
    page.fill("#insights-start", "2026-11-01")
    page.fill("#insights-end", "2026-11-30")
    page.click("#insights-filter button[type=submit]")
    page.wait_for_url("**/supervisor/insights/?start=2026-11-01&end=2026-11-30*")

    total = sum(per_day.values())
    assert page.inner_text("#stat-sessions strong") == str(total)
    for name in ("Co-browse sessions per day", "Consent", "Sessions that used each tool", "Sessions ended, by cause"):
        assert page.get_by_role("img", name=name, exact=True).is_visible()
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(30)]
    assert page.locator("#chart-days rect.chart-bar").count() == sum(1 for d in days if per_day[d])
    # The same numbers in tables, for screen readers.
    cells = page.locator("#table-days tbody td").all_inner_texts()
    assert cells == [str(per_day[d]) for d in days]
    assert page.get_by_role("table", name="Co-browse sessions per day").count() == 1
    consent = dict(zip(page.locator("#table-consent tbody th").all_inner_texts(),
                       page.locator("#table-consent tbody td").all_inner_texts()))
    assert int(consent["Asked"]) == total and int(consent["Allowed"]) + int(consent["Declined"]) == total
    assert page.locator("#table-agents tbody tr").count() == 4
    assert sum(int(n) for n in page.locator("#table-agents tbody td:nth-child(2)").all_inner_texts()) == total

    with page.expect_download() as download:
        page.click("#insights-csv")
    assert download.value.suggested_filename == "cobrowse-insights-2026-11-01-2026-11-30.csv"
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0] == "metric,key,value" and f"sessions,total,{total}" in lines

    # The whole page in the screenshot: the main column scrolls inside the window.
    height = page.evaluate("document.querySelector('main').scrollHeight")
    page.set_viewport_size({"width": 1280, "height": max(720, height)})
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000

"""Co-browse insights (/supervisor/insights/): every figure of a known set of sessions, the team
and date filters, the CSV, who may open it, bad input, and a query count that does not grow."""

import csv
import io
import re
from datetime import date, datetime, timedelta, timezone as dt_timezone
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from helpdesk.events import Verb
from helpdesk.models import Agent, Event, Ticket
from integrations.cobrowse import insights
from integrations.cobrowse.events import ENDED_BY
from integrations.cobrowse.models import SessionLink
from tests import factories as f

pytestmark = pytest.mark.django_db
URL = "/supervisor/insights/"
RANGE = {"start": "2026-11-01", "end": "2026-11-04"}
CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "helpdesk.css"


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=dt_timezone.utc)


def ticket(team, created):
    t = f.ticket(team)
    Ticket.objects.filter(pk=t.pk).update(created_at=at(created))
    return t


def event(ticket, actor, verb, when, **data):
    return Event.objects.create(ticket=ticket, actor=actor, verb=verb, data=data, created_at=when)


def session(ticket, agent, sid, linked, *, active_after=None, length=None, steps=(), end=None):
    """A linked session as the co-browse services record it: the link, COBROWSE_LINKED, `steps`
    ((seconds after the link, verb, data)), and COBROWSE_ENDED with `end` as its data."""
    linked = at(linked)
    activated = linked + timedelta(seconds=active_after) if active_after is not None else None
    if length is not None:
        ended = activated + timedelta(seconds=length)
    else:
        ended = linked + timedelta(seconds=20) if end is not None else None
    SessionLink.objects.create(ticket=ticket, session_id=sid, agent=agent, created_at=linked, activated_at=activated,
                               ended_at=ended, state="ended" if end is not None else "active")
    event(ticket, agent, Verb.COBROWSE_LINKED, linked, session_id=sid, state="active")
    for seconds, verb, data in steps:
        event(ticket, agent, verb, linked + timedelta(seconds=seconds), session_id=sid, **data)
    if end is not None:
        event(ticket, None, Verb.COBROWSE_ENDED, ended, session_id=sid, **end)


ASKED, ALLOWED, DECLINED = Verb.COBROWSE_CONSENT_ASKED, Verb.COBROWSE_CONSENT_ALLOWED, Verb.COBROWSE_CONSENT_DECLINED
TOOL = Verb.COBROWSE_TOOL


@pytest.fixture
def office():
    """Two teams, Alice (Support) and Bob (Billing), sessions from 31 Oct to 5 Nov 2026 (UTC).
    The range 1-4 Nov holds 8 sessions: 3 on the 1st, 2 on the 2nd, none on the 3rd, 3 on the 4th."""
    support, billing = f.team("Support"), f.team("Billing")
    alice, bob = f.agent(support, name="Alice Agent"), f.agent(billing, name="Bob Agent")
    t1, t2 = ticket(support, "2026-11-01T08:00:00"), ticket(support, "2026-11-02T08:00:00")
    t3 = ticket(billing, "2026-11-02T10:00:00")
    ticket(support, "2026-11-04T23:00:00")  # opened in the range, no session
    t5 = ticket(billing, "2026-10-31T12:00:00")  # opened before the range, a session in it
    ticket(billing, "2026-11-05T00:00:00")  # the day after
    ticket(billing, "2026-11-01T00:00:00")  # the first instant, no session

    session(t1, alice, "s1", "2026-11-01T10:00:00", active_after=5, length=250,
            steps=[(0, ASKED, {}), (5, ALLOWED, {}), (10, TOOL, {"tool": "laser"}), (20, TOOL, {"tool": "laser"}),
                   (30, TOOL, {"tool": "drawing"}), (40, TOOL, {"tool": "clear"})],
            end={"cause": "agent"})
    session(t1, alice, "s2", "2026-11-01T00:00:00", active_after=0, length=60,  # the range's first instant
            steps=[(1, TOOL, {"tool": "laser"}), (2, Verb.COBROWSE_FULL_DEVICE_REQUESTED, {}),
                   (3, Verb.COBROWSE_FULL_DEVICE_ALLOWED, {}), (9, Verb.COBROWSE_FULL_DEVICE_STOPPED, {})],
            end={"cause": "customer"})
    # Linked in the range's last second: its link and length count, what came after midnight does not.
    session(t2, alice, "s3", "2026-11-04T23:59:59", active_after=0, length=60,
            steps=[(0, Verb.COBROWSE_REMOTE_CONTROL_REQUESTED, {}), (31, Verb.COBROWSE_REMOTE_CONTROL_DECLINED, {})],
            end={"cause": "ticket_closed"})
    session(t2, alice, "s4", "2026-11-02T09:00:00",  # declined: never active, no length
            steps=[(0, ASKED, {}), (10, DECLINED, {})], end={"cause": "customer"})
    session(t3, bob, "s5", "2026-11-02T12:00:00", active_after=2, length=600,
            steps=[(5, Verb.COBROWSE_REMOTE_CONTROL_REQUESTED, {}), (6, Verb.COBROWSE_REMOTE_CONTROL_ALLOWED, {}),
                   (7, TOOL, {"tool": "drawing"})],
            end={})  # recorded before ends had a cause
    session(t5, bob, "s6", "2026-11-01T15:00:00", active_after=1, length=30, end={"cause": "repair"})
    session(t3, bob, "s8", "2026-11-04T08:00:00", active_after=3, steps=[(4, TOOL, {"tool": "laser"})])  # still on
    session(t3, bob, "s9", "2026-11-04T09:00:00", active_after=0, length=120, end={"elsewhere": True})
    # Out of the range on both sides.
    session(t1, alice, "out1", "2026-10-31T23:50:00", active_after=0, length=500,
            steps=[(60, ASKED, {}), (61, ALLOWED, {}), (300, TOOL, {"tool": "laser"})], end={"cause": "agent"})
    session(t1, alice, "out2", "2026-11-05T00:00:00", active_after=0, length=100,
            steps=[(0, ASKED, {}), (1, ALLOWED, {}), (5, TOOL, {"tool": "laser"})], end={"cause": "agent"})
    event(t1, alice, Verb.REPLIED, at("2026-11-02T10:00:00"))  # not co-browse: not counted
    return {"support": support, "billing": billing, "alice": alice, "bob": bob}


@pytest.fixture
def sam(office):
    return f.agent(office["support"], role=Agent.Role.SUPERVISOR, name="Sam Supervisor")


@pytest.fixture
def as_sam(client, sam):
    client.force_login(sam.user)
    return client


def figures(as_sam, **params):
    response = as_sam.get(URL, {**RANGE, **params})
    assert response.status_code == 200
    return response.context["figures"]


def seconds(td):
    return None if td is None else td.total_seconds()


def test_every_figure_of_all_teams(as_sam, office):
    got = figures(as_sam)
    assert got.per_day == [(date(2026, 11, 1), 3), (date(2026, 11, 2), 2), (date(2026, 11, 3), 0),
                           (date(2026, 11, 4), 3)]
    assert got.sessions == 8
    assert (got.tickets_opened, got.tickets_with_session) == (5, 3)
    assert got.ticket_share == pytest.approx(0.6)
    assert [(b.key, b.value) for b in got.consent] == [("asked", 2), ("allowed", 1), ("declined", 1)]
    assert [(t.key, t.sessions, t.uses) for t in got.tools] == [
        ("laser", 3, 4), ("drawing", 2, 2), ("full_device", 1, 1), ("remote_control", 1, 1)]
    assert got.features == {
        "full_device": ("Full device", {"requested": 1, "allowed": 1, "declined": 0, "stopped": 1}),
        "remote_control": ("Remote control", {"requested": 2, "allowed": 1, "declined": 0, "stopped": 0}),
    }
    # Most first, ties by label; the old end without a cause is "unknown", one that says elsewhere is that.
    assert [(b.key, b.label, b.value) for b in got.ended_by] == [
        ("customer", "Customer", 2), ("agent", "Agent", 1), ("elsewhere", "In Cobrowse", 1),
        ("repair", "Repair job", 1), ("unknown", "Unknown", 1)]
    # Lengths 30, 60, 60, 120, 250, 600 s: median between 60 and 120, p90 halfway from 250 to 600.
    assert got.measured == 6
    assert seconds(got.median_length) == 90
    assert seconds(got.p90_length) == 425
    assert [(a.name, a.sessions, a.measured, seconds(a.median_length)) for a in got.agents] == [
        ("Alice Agent", 4, 3, 60),  # 60, 60, 250: a tie in the middle
        ("Bob Agent", 4, 3, 120),  # 30, 120, 600
    ]


def test_the_team_filter(as_sam, office):
    support = figures(as_sam, team=office["support"].pk)
    assert support.per_day == [(date(2026, 11, 1), 2), (date(2026, 11, 2), 1), (date(2026, 11, 3), 0),
                               (date(2026, 11, 4), 1)]
    assert (support.tickets_opened, support.tickets_with_session) == (3, 2)
    assert [(b.key, b.value) for b in support.consent] == [("asked", 2), ("allowed", 1), ("declined", 1)]
    assert [(t.key, t.sessions) for t in support.tools] == [
        ("laser", 2), ("drawing", 1), ("full_device", 1), ("remote_control", 0)]
    assert [(b.key, b.value) for b in support.ended_by] == [("customer", 2), ("agent", 1)]
    assert (seconds(support.median_length), seconds(support.p90_length)) == (60, 212)  # 60, 60, 250
    assert [(a.name, a.sessions) for a in support.agents] == [("Alice Agent", 4)]

    billing = figures(as_sam, team=office["billing"].pk)
    assert [n for _, n in billing.per_day] == [1, 1, 0, 2]
    assert (billing.tickets_opened, billing.tickets_with_session) == (2, 1)
    assert [(b.key, b.value) for b in billing.consent] == [("asked", 0), ("allowed", 0), ("declined", 0)]
    assert [(b.key, b.value) for b in billing.ended_by] == [("elsewhere", 1), ("repair", 1), ("unknown", 1)]
    assert (seconds(billing.median_length), seconds(billing.p90_length)) == (120, 504)  # 30, 120, 600
    assert [(a.name, a.sessions, a.measured) for a in billing.agents] == [("Bob Agent", 4, 3)]


def test_the_days_at_the_edges_of_the_range(as_sam, office):
    """The first and last day are in, the day before and the day after are out."""
    last_day = figures(as_sam, start="2026-11-04", end="2026-11-04")
    assert last_day.per_day == [(date(2026, 11, 4), 3)]
    # s3's decline and end came after midnight.
    assert last_day.features["remote_control"][1] == {"requested": 1, "allowed": 0, "declined": 0, "stopped": 0}
    assert [(b.key, b.value) for b in last_day.ended_by] == [("elsewhere", 1)]
    day_after = figures(as_sam, start="2026-11-05", end="2026-11-05")
    assert day_after.per_day == [(date(2026, 11, 5), 1)]  # out2
    assert [(b.key, b.value) for b in day_after.ended_by] == [("agent", 1), ("ticket_closed", 1)]
    assert day_after.features["remote_control"][1]["declined"] == 1
    day_before = figures(as_sam, start="2026-10-31", end="2026-10-31")
    assert day_before.per_day == [(date(2026, 10, 31), 1)]
    assert [(b.key, b.value) for b in day_before.ended_by] == [("agent", 1)]
    assert [(b.key, b.value) for b in day_before.consent] == [("asked", 1), ("allowed", 1), ("declined", 0)]


def test_days_follow_the_sites_time_zone(as_sam, office, settings):
    """In Tokyo (UTC+9) the range starts at 15:00 UTC on 31 Oct and ends at 15:00 UTC on 4 Nov."""
    settings.TIME_ZONE = "Asia/Tokyo"
    got = figures(as_sam)
    # out1 and s6 move a day later; s3 and out2 fall after the range.
    assert got.per_day == [(date(2026, 11, 1), 3), (date(2026, 11, 2), 3), (date(2026, 11, 3), 0),
                           (date(2026, 11, 4), 2)]


def test_days_follow_a_change_of_daylight_saving_time(as_sam, office, settings):
    """New York leaves daylight saving time at 06:00 UTC on 1 Nov 2026 (UTC-4, then UTC-5)."""
    settings.TIME_ZONE = "America/New_York"
    t = Ticket.objects.get(session_links__session_id="s1")
    session(t, office["alice"], "edt", "2026-11-01T04:30:00")  # 00:30 on 1 Nov, daylight saving time
    session(t, office["alice"], "est", "2026-11-05T04:30:00")  # 23:30 on 4 Nov, standard time
    got = figures(as_sam)
    # s2 (00:00 UTC) was on the evening of 31 Oct; s3 and out2 (from 23:59:59 UTC on the 4th) are in.
    assert got.per_day == [(date(2026, 11, 1), 3), (date(2026, 11, 2), 2), (date(2026, 11, 3), 0),
                           (date(2026, 11, 4), 5)]


def test_offset_periods_find_the_change_to_the_second():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/New_York")
    since, until = at("2026-10-30T04:00:00"), at("2026-11-04T05:00:00")
    assert insights.offset_periods(since, until, tz) == [
        (since, timedelta(hours=-4)), (at("2026-11-01T06:00:00"), timedelta(hours=-5))]
    assert insights.offset_periods(since, until, ZoneInfo("Asia/Tokyo")) == [(since, timedelta(hours=9))]


def test_a_range_without_sessions_is_all_zeros(as_sam, office):
    got = figures(as_sam, start="2026-06-01", end="2026-06-03")
    assert got.per_day == [(date(2026, 6, d), 0) for d in (1, 2, 3)]
    assert (got.sessions, got.tickets_opened, got.ticket_share, got.measured) == (0, 0, None, 0)
    assert (got.median_length, got.p90_length, got.agents, got.ended_by) == (None, None, [], [])
    html = as_sam.get(URL, {"start": "2026-06-01", "end": "2026-06-03"}).content.decode()
    assert "No session ended in this range." in html and "No co-browse sessions in this range." in html


def test_the_default_range_is_the_last_30_days(as_sam, office):
    from django.utils import timezone

    got = as_sam.get(URL).context["figures"]
    today = timezone.localdate()
    assert (got.start, got.end) == (today - timedelta(days=29), today)
    assert len(got.per_day) == 30


def test_a_former_agent_is_still_counted(as_sam, office):
    office["bob"].user.delete()  # the agent goes with the user; the links keep no agent
    got = figures(as_sam)
    assert [(a.agent_id, a.name, a.sessions, seconds(a.median_length)) for a in got.agents] == [
        (office["alice"].pk, "Alice Agent", 4, 60), (None, "Former agent", 4, 120)]


def test_percentiles_of_one_and_of_an_even_number_of_sessions(as_sam, office):
    one = figures(as_sam, start="2026-11-01", end="2026-11-01", team=office["billing"].pk)  # s6 only
    assert (seconds(one.median_length), seconds(one.p90_length)) == (30, 30)
    two = figures(as_sam, start="2026-11-01", end="2026-11-01", team=office["support"].pk)  # s1, s2: 250, 60
    assert (seconds(two.median_length), seconds(two.p90_length)) == (155, 231)


# --- the page ------------------------------------------------------------------------------------

def test_the_page_shows_the_figures_charts_and_tables(as_sam, office):
    response = as_sam.get(URL, RANGE)
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'id="stat-sessions"><strong>8</strong>', html)
    assert "60%" in html and "of tickets had a session (3 of 5 opened)" in html
    assert re.search(r'id="stat-median"><strong>1 min 30 s</strong>', html)
    assert re.search(r'id="stat-p90"><strong>7 min 5 s</strong>', html)
    for chart in ("chart-days", "chart-consent", "chart-tools", "chart-causes"):
        assert re.search(
            rf'<svg class="chart[^"]*" role="img" aria-labelledby="{chart}-title" aria-describedby="{chart}-desc"', html)
        assert f'<title id="{chart}-title">' in html
    # Each chart's numbers are in a table too.
    days = re.search(r'<table class="visually-hidden" id="table-days">(.*?)</table>', html, re.S).group(1)
    assert re.findall(r"<td>(\d+)</td>", days) == ["3", "2", "0", "3"]
    assert len(re.findall(r'<rect class="chart-bar" [^>]*data-day=', html)) == 3  # no column on a day of 0
    causes = re.search(r'id="table-causes">(.*?)</table>', html, re.S).group(1)
    assert re.findall(r"<th scope=\"row\">([^<]+)</th><td>(\d+)</td>", causes) == [
        ("Customer", "2"), ("Agent", "1"), ("In Cobrowse", "1"), ("Repair job", "1"), ("Unknown", "1")]
    agents = re.search(r'id="table-agents">(.*?)</table>', html, re.S).group(1)
    assert re.findall(r"<td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td><td>([^<]+)</td>", agents) == [
        ("Alice Agent", "4", "3", "1 min"), ("Bob Agent", "4", "3", "2 min")]
    assert 'href="/supervisor/insights/?start=2026-11-01&amp;end=2026-11-04&amp;team=&amp;format=csv"' in html
    assert re.search(r'href="/supervisor/insights/"\s+aria-current="page">Co-browse insights</a>', html)


def test_an_agent_name_is_escaped_in_the_page(as_sam, office):
    office["alice"].display_name = "<script>x</script>"
    office["alice"].save()
    html = as_sam.get(URL, RANGE).content.decode()
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_lengths_read_as_people_say_them():
    fmt = insights.format_length
    assert [fmt(timedelta(seconds=s)) for s in (0, 45, 60, 250, 3600, 3725, 5400.4)] == [
        "0 s", "45 s", "1 min", "4 min 10 s", "1 h", "1 h 2 min", "1 h 30 min"]
    assert fmt(None) == "—"


def test_every_cause_has_a_short_label():
    assert set(ENDED_BY) <= set(insights.CAUSE_LABELS)
    assert all(len(label.split()) <= 3 for label in insights.CAUSE_LABELS.values())


def _contrast(a, b):
    def luminance(hex_colour):
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b_ = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_chart_colours_contrast_with_the_card():
    """Bars at least 3:1 and text at least 4.5:1 against the white card (WCAG 1.4.11 and 1.4.3)."""
    block = CSS.read_text().split("/* insights */", 1)[1]
    bars = re.findall(r"\.chart-bar[\w-]* \{ fill: (#[0-9a-f]{6}); \}", block)
    texts = re.findall(r"\.chart-(?:text|value) \{ fill: (#[0-9a-f]{6});", block)
    assert len(bars) == 3 and len(texts) == 2
    assert all(_contrast(colour, "#ffffff") >= 3 for colour in bars), bars
    assert all(_contrast(colour, "#ffffff") >= 4.5 for colour in texts), texts


# --- CSV -----------------------------------------------------------------------------------------

def rows_of(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_csv_has_the_same_figures(as_sam, office):
    response = as_sam.get(URL, {**RANGE, "team": office["support"].pk, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="cobrowse-insights-2026-11-01-2026-11-04-{office["support"].slug}.csv"')
    rows = rows_of(response)
    assert rows[0] == ["metric", "key", "value"]
    values = {(metric, key): value for metric, key, value in rows[1:]}
    assert values[("range", "team")] == "Support"
    assert values[("sessions", "total")] == "4" and values[("sessions", "with_length")] == "3"
    assert [(k, v) for (m, k), v in values.items() if m == "sessions_per_day"] == [
        ("2026-11-01", "2"), ("2026-11-02", "1"), ("2026-11-03", "0"), ("2026-11-04", "1")]
    assert (values[("tickets", "opened")], values[("tickets", "with_session")]) == ("3", "2")
    assert values[("tickets", "share_with_session")] == "0.6667"
    assert [values[("consent", k)] for k in ("asked", "allowed", "declined")] == ["2", "1", "1"]
    assert (values[("length_seconds", "median")], values[("length_seconds", "p90")]) == ("60.0", "212.0")
    assert values[("tool_sessions", "laser")] == "2" and values[("tool_uses", "laser")] == "3"
    assert values[("full_device", "stopped")] == "1"
    assert [(k, v) for (m, k), v in values.items() if m == "ended_by"] == [("customer", "2"), ("agent", "1")]
    who = f"Alice Agent (#{office['alice'].pk})"
    assert (values[("agent_sessions", who)], values[("agent_median_seconds", who)]) == ("4", "60.0")


def test_the_csv_defuses_formulas_in_agent_names(as_sam, office):
    office["alice"].display_name = "=HYPERLINK(\"http://x\")"
    office["alice"].save()
    office["bob"].display_name = "@SUM(A1)"
    office["bob"].save()
    rows = rows_of(as_sam.get(URL, {**RANGE, "format": "csv"}))
    keys = [key for metric, key, _ in rows if metric == "agent_sessions"]
    assert keys == [f"'=HYPERLINK(\"http://x\") (#{office['alice'].pk})", f"'@SUM(A1) (#{office['bob'].pk})"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


# --- who may open it, and bad input --------------------------------------------------------------

def test_only_supervisors_and_admins_open_it(client, office):
    assert client.get(URL).status_code == 302 and client.get(URL)["Location"].startswith("/login/")
    client.force_login(office["alice"].user)
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"format": "csv"}).status_code == 403
    for role in (Agent.Role.SUPERVISOR, Agent.Role.ADMIN):
        client.force_login(f.agent(None, role=role).user)
        assert client.get(URL).status_code == 200
        assert client.get(URL, {"format": "csv"}).status_code == 200


def test_agents_do_not_see_the_link(client, office, sam):
    client.force_login(office["alice"].user)
    assert "Co-browse insights" not in client.get("/tickets/").content.decode()
    client.force_login(sam.user)
    assert "Co-browse insights" in client.get("/tickets/").content.decode()


@pytest.mark.parametrize("params, message", [
    ({"start": "2026-13-01"}, "Enter the start date as YYYY-MM-DD."),
    ({"start": "01/11/2026"}, "Enter the start date as YYYY-MM-DD."),
    ({"end": "yesterday"}, "Enter the end date as YYYY-MM-DD."),
    ({"start": "2026-11-04", "end": "2026-11-01"}, "The end date is before the start date."),
    ({"start": "2025-01-01", "end": "2026-01-02"}, "Choose at most 366 days."),
    ({"start": "9999-12-31"}, "Choose dates between 1970-01-01 and 9998-12-31."),
    ({"end": "0001-01-01"}, "Choose dates between 1970-01-01 and 9998-12-31."),
    ({"team": "999999"}, "There is no such team."),
    ({"team": "9" * 30}, "There is no such team."),
    ({"team": "١"}, "There is no such team."),
    ({"team": "x\x00"}, "There is no such team."),
    ({"start": "2026-11-01\x00"}, "Enter the start date as YYYY-MM-DD."),
])
def test_bad_input_says_what_is_wrong(office, sam, params, message):
    client = Client(raise_request_exception=False)
    client.force_login(sam.user)
    response = client.get(URL, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and 'id="insights-errors"' in html and "stat-sessions" not in html
    as_csv = client.get(URL, {**params, "format": "csv"})
    assert as_csv.status_code == 400 and message in as_csv.content.decode()


def test_a_whole_leap_year_is_allowed(as_sam, office):
    got = figures(as_sam, start="2028-01-01", end="2028-12-31")
    assert len(got.per_day) == 366


def test_only_get(as_sam):
    assert as_sam.post(URL).status_code == 405


# --- queries -------------------------------------------------------------------------------------

def _queries(client, params):
    with CaptureQueriesContext(connection) as queries:
        for fmt in ("", "csv"):
            assert client.get(URL, {**params, "format": fmt}).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_data(as_sam, office):
    params = {**RANGE, "team": ""}
    small = _queries(as_sam, params)
    support, billing = office["support"], office["billing"]
    agents = [f.agent(team, name=f"Extra {i}") for i, team in enumerate((support, billing, support))]
    for i in range(40):
        t = ticket((support, billing)[i % 2], f"2026-11-0{1 + i % 4}T09:00:00")
        session(t, agents[i % 3], f"more{i}", f"2026-11-0{1 + i % 4}T1{i % 10}:00:00", active_after=1,
                length=30 + i, steps=[(2, ASKED, {}), (3, ALLOWED, {}), (4, TOOL, {"tool": "laser"})],
                end={"cause": ("agent", "customer", "timeout", "limit")[i % 4]})
    assert figures(as_sam).sessions == 48  # the new data is counted
    assert _queries(as_sam, params) == small
    assert _queries(as_sam, {**params, "team": support.pk}) == small

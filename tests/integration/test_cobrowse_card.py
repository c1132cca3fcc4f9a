"""The ticket page's co-browse card at a glance, against the real sandbox over HTTP: the devices of
the last day first, older ones folded behind a control that lists them a page at a time, and
Cobrowse asked only for what is shown."""

import html
import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from helpdesk import outbound
from integrations.cobrowse import devices
from tests import factories as f

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]

HOUR, DAY = 3600, 86400


@pytest.fixture
def card(cobrowse_on_sandbox, client):
    sb = cobrowse_on_sandbox
    team = f.team("Support")
    agent = f.agent(team, name="Alice Agent")
    ticket = f.ticket(team, f.customer(user_id="cust-card", name="Carla"), subject="Where is my order")
    client.force_login(agent.user)
    return sb, ticket, client


@pytest.fixture
def sent(monkeypatch):
    """The query of every device listing the helpdesk put on the wire (after encoding, retries included)."""
    urls = []
    send = outbound.PolicyAdapter.send

    def recording(self, request, *args, **kwargs):
        urls.append(request.url)
        return send(self, request, *args, **kwargs)

    monkeypatch.setattr(outbound.PolicyAdapter, "send", recording)

    def device_listings():
        parts = [urlsplit(u) for u in urls]
        return [parse_qs(p.query) for p in parts if p.path.rstrip("/") == "/api/1/devices"]

    device_listings.clear = urls.clear
    return device_listings


def device(sb, user_id, online=False, seen_ago=None):
    d = sb.create_device({"user_id": user_id, "user_name": "Carla"}, online=online)
    if seen_ago is not None:
        sb.set_device(d["id"], last_active=seen_ago)
    return d["id"]


def twelve_devices(sb, user_id="cust-card"):
    """2 online, 3 offline seen within the day, 7 older (created out of display order)."""
    older = [device(sb, user_id, seen_ago=days * DAY + 60) for days in (4, 2, 9, 3, 30, 6, 12)]
    recent = [device(sb, user_id, seen_ago=hours * HOUR) for hours in (5, 1, 20)]
    online = [device(sb, user_id, online=True) for _ in range(2)]
    device(sb, "someone-else", online=True)
    by_age = {d: age for d, age in zip(older, (4, 2, 9, 3, 30, 6, 12))}
    return {
        "online": online[::-1],  # newest first: the last to come online checked in last
        "recent": [recent[1], recent[0], recent[2]],
        "older": sorted(older, key=by_age.get),
    }


def shown_ids(body):
    return re.findall(r'data-device-id="([^"]+)"', body)


def control_url(body):
    [url] = re.findall(r'data-devices-more hx-get="([^"]+)"', body)
    return html.unescape(url)


def iso(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def panel(client, ticket, query=""):
    response = client.get(f"/cobrowse/tickets/{ticket.pk}/panel/{query}")
    assert response.status_code == 200
    return response.content.decode()


def test_the_card_shows_online_then_recent_devices_and_folds_the_older_ones(card, sent):
    sb, ticket, client = card
    ids = twelve_devices(sb)
    sent.clear()
    asked_from = timezone.now()
    body = panel(client, ticket)
    asked_until = timezone.now()

    assert shown_ids(body) == ids["online"] + ids["recent"]
    assert not any(i in body for i in ids["older"])
    assert "Show older devices" in body and "More than" not in body
    # One listing, of the day's window only: seen_after a day back, one more than a screenful.
    [query] = sent()
    assert query["filter_user_id"] == ["cust-card"] and query["limit"] == [str(devices.PAGE + 1)]
    assert "seen_before" not in query
    seen_after = iso(query["seen_after"][0])
    assert asked_from - timedelta(days=1, milliseconds=1) <= seen_after <= asked_until - timedelta(days=1)
    # The page's JS follows the same window.
    assert f'data-seen-after="{query["seen_after"][0]}"' in body and f'data-limit="{devices.PAGE + 1}"' in body


def test_the_control_lists_the_older_devices_a_page_at_a_time(card, sent):
    sb, ticket, client = card
    ids = twelve_devices(sb)
    first = panel(client, ticket)
    sent.clear()

    page1 = client.get(control_url(first))
    assert page1.status_code == 200
    page1 = page1.content.decode()
    assert shown_ids(page1) == ids["older"][:5]
    assert "Show more devices" in page1
    [query] = sent()
    assert query["filter_user_id"] == ["cust-card"] and query["limit"] == [str(devices.PAGE + 1)]
    assert "seen_after" not in query and "seen_before" in query

    sent.clear()
    cursor = urlsplit(control_url(page1)).query
    page2 = panel(client, ticket, "?" + cursor)
    assert shown_ids(page2) == ids["older"][5:]
    assert "No more devices." in page2 and "data-devices-more" not in page2
    [query] = sent()
    # One more than a screenful, plus the devices already shown from the millisecond it starts at.
    already_shown = parse_qs(cursor).get("shown", [])
    assert "seen_after" not in query and "seen_before" in query
    assert query["limit"] == [str(devices.PAGE + 1 + len(already_shown))]


def test_a_refresh_lists_again_the_older_pages_the_card_had_open(card, sent):
    sb, ticket, client = card
    ids = twelve_devices(sb)
    sent.clear()
    body = panel(client, ticket, "?older=1&older=2")  # what hx-include sends with two pages open
    assert shown_ids(body) == ids["online"] + ids["recent"] + ids["older"]
    assert "No more devices." in body
    day, page1, page2 = sent()  # the day's window and the two pages, nothing more
    assert "seen_after" in day and "seen_before" in page1 and "seen_before" in page2
    assert day["limit"] == page1["limit"] == [str(devices.PAGE + 1)]


def test_more_devices_in_the_day_than_a_screenful_page_on_without_a_gap_or_a_repeat(card, sent):
    sb, ticket, client = card
    recent = [device(sb, "cust-card", seen_ago=minutes * 60) for minutes in (10, 20, 30, 40, 50, 60, 70)]
    older = device(sb, "cust-card", seen_ago=3 * DAY)
    body = panel(client, ticket)
    assert shown_ids(body) == recent[:5]
    assert f"More than {devices.PAGE} were seen in the last day." in body and "Show more devices" in body
    rest = panel(client, ticket, "?" + urlsplit(control_url(body)).query)
    assert shown_ids(rest) == recent[5:] + [older]
    assert "No more devices." in rest


def test_a_customer_without_a_recent_device_is_told_so_and_can_show_the_older_ones(card):
    sb, ticket, client = card
    old = [device(sb, "cust-card", seen_ago=days * DAY) for days in (2, 5)]
    body = panel(client, ticket)
    assert shown_ids(body) == []
    assert "No device of cust-card was seen in the last day." in body
    assert "Show older devices" in body
    older = panel(client, ticket, "?" + urlsplit(control_url(body)).query)
    assert shown_ids(older) == old and "No more devices." in older


def test_a_customer_without_any_device_is_told_there_are_no_older_ones_either(card):
    sb, ticket, client = card
    body = panel(client, ticket)
    assert "No device of cust-card was seen in the last day." in body
    older = panel(client, ticket, "?" + urlsplit(control_url(body)).query)
    assert shown_ids(older) == [] and "No older devices." in older


@pytest.mark.parametrize("mode,message", [
    ("503", "Cobrowse is unavailable (503)."),
    ("hang", "Cobrowse did not answer in time."),
])
def test_the_card_and_its_older_pages_say_clearly_when_cobrowse_fails(card, settings, mode, message):
    sb, ticket, client = card
    device(sb, "cust-card", seen_ago=3 * DAY)
    more = control_url(panel(client, ticket))
    settings.COBROWSE_READ_TIMEOUT = 0.5
    sb.fault(mode, seconds=2)
    try:
        body = panel(client, ticket)
        assert f"Co-browse is unavailable: {message}" in body and "data-device-id" not in body
        page = client.get(more)
        assert page.status_code == 200
        page = page.content.decode()
        assert f"Co-browse is unavailable: {message}" in page
        assert control_url(page) == more  # the agent can try again
    finally:
        sb.clear_faults()
    assert shown_ids(client.get(more).content.decode()) != []


@pytest.mark.parametrize("query", [
    "?before=yesterday", "?before=", "?before=9999-12-31T23:59:59.999Z", "?before=0001-01-01T00:00:00Z",
    "?before=2024-01-01T00:00:00Z&shown=not%20an%20id", "?before=2024-01-01T00:00:00Z&shown=" + "x" * 200,
])
def test_a_cursor_the_card_did_not_make_is_refused_without_asking_cobrowse(card, sent, query):
    sb, ticket, client = card
    sent.clear()
    response = client.get(f"/cobrowse/tickets/{ticket.pk}/panel/{query}")
    assert response.status_code == 400
    assert sent() == []


@pytest.mark.parametrize("older", ["²", "-1", "9" * 50, "x"])
def test_an_odd_page_count_shows_the_days_window(card, older):
    sb, ticket, client = card
    recent = device(sb, "cust-card", seen_ago=HOUR)
    device(sb, "cust-card", seen_ago=3 * DAY)
    assert shown_ids(panel(client, ticket, f"?older={older}")) == [recent]

"""Paging the co-browse card's devices through what the sandbox cannot produce on demand: devices
sharing one millisecond across a page boundary, and answers that are not device lists."""

from datetime import datetime, timedelta, timezone

import pytest

from integrations.cobrowse import devices
from integrations.cobrowse.client import Unavailable

NOW = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


def _iso(value):
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Listing:
    """GET /api/1/devices as CONTRACT 6.6.1 has it: strict seen_before/seen_after, limit,
    last_active newest first, ties by id."""

    def __init__(self, rows):
        self.rows = rows
        self.queries = []

    def list_devices(self, filter_user_id, seen_before=None, seen_after=None, limit=100):
        self.queries.append({"seen_before": seen_before, "seen_after": seen_after, "limit": limit})
        rows = [r for r in self.rows if r["custom_data"]["user_id"] == filter_user_id
                and (seen_before is None or r["at"] < seen_before) and (seen_after is None or r["at"] > seen_after)]
        rows.sort(key=lambda r: r["id"])
        rows.sort(key=lambda r: r["at"], reverse=True)
        return [{"id": r["id"], "custom_data": r["custom_data"], "last_active": _iso(r["at"])} for r in rows[:limit]]


def row(i, at):
    return {"id": f"dev_{i:02d}", "at": at, "custom_data": {"user_id": "u1"}}


def every_page(client, most=10):
    """The ids the card shows from the day's window through its last older page."""
    window = devices.window(client, "u1", NOW)
    seen, page = [d["id"] for d in window.recent.devices], window.recent
    for _ in range(most):
        page = devices.older_page(client, "u1", page.next)
        seen += [d["id"] for d in page.devices]
        if not page.more:
            return seen
    raise AssertionError(f"still more after {most} pages: {seen}")


def test_devices_sharing_a_millisecond_across_pages_are_each_shown_once():
    tie = NOW - timedelta(days=3)
    rows = [row(i, tie) for i in range(8)] + [row(8, tie - timedelta(seconds=1)), row(9, NOW - timedelta(hours=1))]
    client = Listing(rows)
    assert every_page(client) == ["dev_09"] + [f"dev_{i:02d}" for i in range(9)]
    assert all(q["limit"] <= 2 * devices.PAGE + 1 for q in client.queries)


def test_a_whole_page_in_one_millisecond_still_pages_on():
    tie = NOW - timedelta(days=3)
    rows = [row(i, tie) for i in range(13)]
    assert every_page(Listing(rows)) == [f"dev_{i:02d}" for i in range(13)]


def test_the_days_window_ends_exactly_where_the_older_pages_start():
    since = NOW.replace(microsecond=123000) - devices.RECENT
    rows = [row(1, since + timedelta(milliseconds=1)), row(2, since), row(3, since - timedelta(milliseconds=1))]
    window = devices.window(Listing(rows), "u1", NOW)
    assert [d["id"] for d in window.recent.devices] == ["dev_01"]
    assert every_page(Listing(rows)) == ["dev_01", "dev_02", "dev_03"]


@pytest.mark.parametrize("answer", [{"devices": []}, "[]", [1, 2], [{"id": 3}], [{"id": "dev_1"}],
                                    [{"id": "dev_1", "last_active": "yesterday"}]])
def test_an_answer_that_is_not_a_device_list_is_an_outage_not_a_crash(answer):
    class Odd:
        def list_devices(self, **query):
            return answer

    with pytest.raises(Unavailable):
        devices.window(Odd(), "u1", NOW)

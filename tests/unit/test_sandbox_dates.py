"""The sandbox writes a listing's dates from SQLite's stored text exactly as it writes a datetime."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from sandbox.runtime import iso, iso_from_stored

MOMENTS = [
    datetime(2026, 12, 7, 3, 4, 5, 123456, tzinfo=timezone.utc),
    datetime(2026, 12, 7, 3, 4, 5, tzinfo=timezone.utc),  # stored without a fraction
    datetime(2026, 12, 7, 3, 4, 5, 999, tzinfo=timezone.utc),  # below a millisecond: truncated
    datetime(2026, 1, 1, 0, 0, 0, 1000, tzinfo=timezone.utc),
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_stored_text_and_datetime_give_the_same_iso(moment):
    stored = str(moment.replace(tzinfo=None))  # what Django's SQLite backend writes (USE_TZ: UTC)
    assert iso_from_stored(stored) == iso(moment)
    assert iso(moment).endswith("Z") and len(iso(moment)) == len("2026-12-07T03:04:05.123Z")


def test_other_time_zones_are_written_in_utc():
    moment = datetime(2026, 12, 7, 5, 4, 5, 123456, tzinfo=ZoneInfo("Europe/Berlin"))
    assert iso(moment) == "2026-12-07T04:04:05.123Z"
    assert iso(datetime(2026, 12, 7, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))) == "2026-12-07T03:04:05.000Z"
    assert iso(None) is None and iso_from_stored(None) is None

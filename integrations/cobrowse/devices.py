"""The co-browse card's device list: one screenful, and Cobrowse is asked for that and no more.

By default the card shows the customer's devices seen in the last day (`seen_after`), newest first,
at most PAGE of them. Older devices are listed on request, a page at a time, each page continuing
where the previous one stopped (`seen_before`). Every listing asks for PAGE + 1 devices: the extra
one is not shown, it only says whether there is more.

"N more": CONTRACT 6.6.1 gives no count, no cursor and no paging metadata, so how many devices are
left is not known without listing them all, which the card must not do. The card never shows a
number it does not have: past the day's window it offers "Show older devices" (whether there are
any is only known once asked), and when the extra device came back it says there are more than
PAGE (all the one-more trick can tell).

Presence is not read here: a REST `online` must not be relied on (CONTRACT 2.2). The page's JS
follows the same window with the SDK, marks presence live and moves online devices to the top.
Without it, newest first already puts them near the top (an online device checks in).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from .client import SESSION_ID_RE, Unavailable

PAGE = 5
RECENT = timedelta(days=1)
MAX_OLDER_PAGES = 20  # older pages a refresh lists again: bounds what one panel load asks
MAX_SHOWN_IDS = 100  # a cursor names at most the devices of one millisecond it already showed
ONE_MS = timedelta(milliseconds=1)
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=timezone.utc), datetime(9000, 1, 1, tzinfo=timezone.utc)


def _ms(value):
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _iso(value):
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(raw):
    value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _seen(device):
    """A listed device's last_active, to the millisecond (the wire's precision, and the cursor's)."""
    try:
        return _ms(_parse(device["last_active"]))
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise Unavailable("Cobrowse listed a device without a readable last_active.") from exc


@dataclass(frozen=True)
class Cursor:
    """Where a page of older devices starts: devices last active at or before `before`, except
    `shown`, the ones already shown from that very millisecond. The contract's bounds are strict
    and several devices can share a millisecond, so paging from "before the last one shown" alone
    could skip some; paging from just after it and dropping those already shown skips none."""

    before: datetime
    shown: tuple = ()
    number: int = 1  # which older page this is (1 = the first past the day's window)

    def query(self):
        return urlencode([("before", _iso(self.before)), *(("shown", i) for i in self.shown), ("page", self.number)])

    @classmethod
    def from_query(cls, params):
        """The cursor of a "show older devices" request; None when the request has none;
        ValueError when it is not one the card made."""
        raw = params.get("before")
        if raw is None:
            return None
        shown = tuple(params.getlist("shown"))
        if len(shown) > MAX_SHOWN_IDS or not all(SESSION_ID_RE.fullmatch(i) for i in shown):
            raise ValueError("shown: not device ids")
        try:
            before = _ms(_parse(raw)).astimezone(timezone.utc)
        except (TypeError, ValueError, OverflowError):
            raise ValueError("before: not an ISO-8601 date") from None
        if not EARLIEST <= before <= LATEST:  # also keeps before + ONE_MS and its ISO form in range
            raise ValueError("before: out of range")
        return cls(before, shown, _page_number(params.get("page"), default=1))


def _page_number(raw, default=0):
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 3:
        return default
    return min(int(raw), MAX_OLDER_PAGES)


def older_pages_shown(params):
    """How many older pages the card had open (each page it showed carries its number): a
    refresh lists them again instead of folding them away."""
    return max((_page_number(v) for v in params.getlist("older")), default=0)


@dataclass
class Page:
    devices: list
    more: bool  # a device past this page came back: there are more (how many is not known)
    next: Cursor  # where the page after this one starts
    number: int = 0  # 0 = the day's window, then 1, 2... for older pages


@dataclass
class Window:
    since: datetime  # devices last active strictly after this are the day's window
    limit: int  # what the day's listing asked for (the page's JS follows the same window)
    recent: Page
    older: list = field(default_factory=list)
    page_size = PAGE

    @property
    def since_iso(self):
        return _iso(self.since)

    @property
    def last(self):
        return self.older[-1] if self.older else self.recent


def _listed(rows):
    if not isinstance(rows, list) or not all(isinstance(d, dict) and isinstance(d.get("id"), str) for d in rows):
        raise Unavailable("Cobrowse answered a device list that is not a list of devices.")
    return rows


def _page(rows, start, number, skip=()):
    rows = [d for d in _listed(rows) if d["id"] not in skip]
    shown = rows[:PAGE]
    if not shown:
        return Page([], False, start, number)
    last = _seen(shown[-1])
    at_last = tuple(d["id"] for d in shown if _seen(d) == last)
    if last == start.before:  # the whole page shares the cursor's millisecond: keep what it showed
        at_last = start.shown + at_last
    return Page(shown, len(rows) > PAGE, Cursor(last, at_last, number + 1), number)


def older_page(client, user_id, cursor):
    """One page of devices at or before the cursor, newest first."""
    rows = client.list_devices(filter_user_id=user_id, seen_before=cursor.before + ONE_MS,
                               limit=PAGE + 1 + len(cursor.shown))
    return _page(rows, cursor, cursor.number, skip=set(cursor.shown))


def window(client, user_id, now, older_pages=0):
    """The card's devices: the day's window, then `older_pages` pages past it (those the card had
    open), stopping early when there is nothing more."""
    since = _ms(now) - RECENT
    limit = PAGE + 1
    rows = client.list_devices(filter_user_id=user_id, seen_after=since, limit=limit)
    result = Window(since, limit, _page(rows, Cursor(since), 0))
    if not result.recent.more:  # every device of the day is shown: the older pages start at `since`
        result.recent.next = Cursor(since)
    while len(result.older) < older_pages and (result.last.more or not result.older):
        result.older.append(older_page(client, user_id, result.last.next))
    return result

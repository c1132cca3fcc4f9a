"""State of the running sandbox process that tests steer: the clock, faults and request counts."""

import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

_lock = threading.Lock()
_offset = 0.0
_faults = []  # dicts: mode, seconds, remaining (None = until cleared), path_prefix
stats = Counter()


def now():
    """The sandbox's clock: real time plus the offset the control API added, to the millisecond
    (the precision of every timestamp on the wire, so comparisons match what clients see)."""
    value = datetime.now(timezone.utc) + timedelta(seconds=_offset)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def advance(seconds):
    global _offset
    with _lock:
        _offset += float(seconds)


def reset():
    global _offset
    with _lock:
        _offset = 0.0
        _faults.clear()
        stats.clear()


def add_fault(mode, seconds=None, count=None, path_prefix="/api/1/"):
    with _lock:
        _faults.append({"mode": mode, "seconds": seconds, "remaining": count, "path_prefix": path_prefix})


def clear_faults():
    with _lock:
        _faults.clear()


def take_fault(path):
    """The fault to apply to this request, if any (consumes one from a counted fault)."""
    with _lock:
        for fault in _faults:
            if path.startswith(fault["path_prefix"]):
                if fault["remaining"] is not None:
                    fault["remaining"] -= 1
                    if fault["remaining"] <= 0:
                        _faults.remove(fault)
                return dict(fault)
    return None


def iso(value):
    if value is None or isinstance(value, str):  # None, or already in the API's form (iso_from_stored)
        return value
    if value.tzinfo is not timezone.utc:  # a listing page formats 5,000 of them: UTC, as stored, is the fast path
        if value.utcoffset():
            value = value.astimezone(timezone.utc)
        value = value.replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds") + "Z"  # truncates, like now()
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"  # without "+00:00"


def iso_from_stored(text):
    """iso() of a date as SQLite stores it for Django: UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]"."""
    if text is None:
        return None
    return f"{text[:10]}T{text[11:19]}.{text[20:23] if len(text) > 19 else '000'}Z"

"""The supervisors' count reads the next page of sessions while it looks up the current one."""

import threading
import time

import pytest

from integrations.cobrowse.client import Unavailable
from integrations.cobrowse.monitoring import _read_ahead


def test_every_item_comes_once_in_order_from_another_thread():
    threads = set()

    def items():
        for n in range(2500):
            threads.add(threading.get_ident())
            yield n

    assert list(_read_ahead(items())) == list(range(2500))
    assert threads and threading.get_ident() not in threads


def test_a_failure_after_some_pages_reaches_the_reader_after_what_came_before():
    def items():
        yield from range(1000)
        raise Unavailable("Cobrowse is unavailable (503).")

    got = []
    with pytest.raises(Unavailable):
        for item in _read_ahead(items()):
            got.append(item)
    assert got == list(range(1000))


def test_a_reader_that_stops_early_stops_the_listing():
    asked = []

    def items():  # 10,000 slow pages: about 10 s if nobody stopped them
        for n in range(10_000):
            time.sleep(0.001)
            asked.append(n)
            yield n

    started = time.monotonic()
    for item in _read_ahead(items()):
        if item == 100:
            break
    assert time.monotonic() - started < 5 and len(asked) < 10_000
    assert not any(t.name == "cobrowse-count" for t in threading.enumerate())

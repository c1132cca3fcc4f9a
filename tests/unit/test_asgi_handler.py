"""The ASGI handler: a request's sync work on one thread borrowed for the request, in few hops,
threads reused, at most `threads` requests at once, and Django's behaviour otherwise unchanged."""

import asyncio
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.signals import request_finished, request_started
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path

from helpdesk.asgi_handler import PooledThreadASGIHandler

seen = []  # (what, thread id) in the order things ran
gate = threading.Event()


def where(request):
    seen.append(("view", threading.get_ident()))
    return HttpResponse(str(threading.get_ident()))


def wait_at_gate(request):
    seen.append(("waiting", threading.get_ident()))
    gate.wait(10)
    return HttpResponse("through")


def streamed(request):
    def parts():
        seen.append(("stream", threading.get_ident()))
        yield b"one "
        yield b"two"
    return StreamingHttpResponse(parts())


def connection_id(request):
    connection.ensure_connection()
    return HttpResponse(str(id(connection.connection)))


def broken(request):
    raise RuntimeError("boom")


urlpatterns = [path("where/", where), path("gate/", wait_at_gate), path("stream/", streamed), path("broken/", broken),
               path("connection/", connection_id)]


@pytest.fixture(autouse=True)
def _reset():
    seen.clear()
    gate.clear()

    def started(**kwargs):
        seen.append(("started", threading.get_ident()))

    def finished(**kwargs):
        seen.append(("finished", threading.get_ident()))

    request_started.connect(started)
    request_finished.connect(finished)
    yield
    request_started.disconnect(started)
    request_finished.disconnect(finished)
    gate.set()


def scope(url):
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": url, "raw_path": url.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 40000), "server": ("testserver", 80)}


async def start(app, url):
    communicator = ApplicationCommunicator(app, scope(url))
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    return communicator


async def answer(communicator):
    head = await communicator.receive_output(10)
    body = b""
    while True:
        message = await communicator.receive_output(10)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(10)
    return head["status"], dict(head["headers"]), body


async def get(app, url):
    return await answer(await start(app, url))


async def until(condition, timeout=10):
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db(transaction=True)]


async def test_a_page_goes_through_every_middleware():
    status, headers, body = await get(PooledThreadASGIHandler(threads=2), "/where/")
    assert status == 200 and body.isdigit()
    # From the first middleware (request ids) to the last (clickjacking, security headers).
    assert headers[b"X-Request-ID"] and headers[b"X-Frame-Options"] == b"DENY"
    assert headers[b"X-Content-Type-Options"] == b"nosniff"


async def test_a_requests_signals_middleware_and_view_run_on_one_thread():
    await get(PooledThreadASGIHandler(threads=2), "/where/")
    assert [what for what, _ in seen] == ["started", "view", "finished"]
    assert len({thread for _, thread in seen}) == 1
    assert seen[0][1] != threading.get_ident()  # not the event loop's thread


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
async def test_a_streamed_body_is_read_and_closed_on_the_requests_thread():
    status, _, body = await get(PooledThreadASGIHandler(threads=2), "/stream/")
    assert (status, body) == (200, b"one two")
    assert [what for what, _ in seen] == ["started", "stream", "finished"]
    assert len({thread for _, thread in seen}) == 1


async def test_threads_are_kept_for_the_next_requests():
    app = PooledThreadASGIHandler(threads=4)
    for _ in range(10):
        await get(app, "/where/")
    # One request at a time: the one thread made is used again every time.
    assert len({thread for what, thread in seen if what == "view"}) == 1


async def test_a_thread_keeps_its_database_connection_between_requests():
    if not connection.settings_dict["CONN_MAX_AGE"]:
        pytest.skip("the connection pool is on: each request borrows from it (tests/ops/test_database.py)")
    app = PooledThreadASGIHandler(threads=1)
    first, second = [(await get(app, "/connection/"))[2] for _ in range(2)]
    assert first == second  # CONN_MAX_AGE: Django's own handler connects afresh on every request's new thread


async def test_a_request_takes_three_hops_to_its_thread():
    class Counting(PooledThreadASGIHandler):
        submitted = 0

        def _new_thread(self):
            executor = super()._new_thread()
            submit = executor.submit

            def counted(*args, **kwargs):
                Counting.submitted += 1
                return submit(*args, **kwargs)

            executor.submit = counted
            return executor

    await get(Counting(threads=1), "/where/")
    # request_started, the middleware chain with its view, response.close(): Django's own handler
    # takes a hop in and out of every middleware besides (more than twenty for this project's).
    assert Counting.submitted == 3


async def test_no_more_than_threads_requests_run_at_once_and_the_others_wait():
    app = PooledThreadASGIHandler(threads=2)
    waiting = [await start(app, "/gate/") for _ in range(4)]
    await until(lambda: sum(what == "waiting" for what, _ in seen) == 2)
    await asyncio.sleep(0.2)
    assert sum(what == "waiting" for what, _ in seen) == 2
    gate.set()
    results = [await answer(c) for c in waiting]
    assert [(status, body) for status, _, body in results] == [(200, b"through")] * 4
    assert len({thread for what, thread in seen if what == "waiting"}) == 2


async def test_a_request_given_up_while_waiting_for_a_thread_loses_no_thread():
    app = PooledThreadASGIHandler(threads=1)
    first = await start(app, "/gate/")
    await until(lambda: ("waiting" in [what for what, _ in seen]))
    second = await start(app, "/where/")
    await asyncio.sleep(0.1)
    second.future.cancel()  # the server gives up on it (a client gone, a shutdown)
    with pytest.raises(asyncio.CancelledError):
        await second.future
    gate.set()
    assert (await answer(first))[0] == 200
    status, _, _ = await get(app, "/where/")  # the only thread is still there
    assert status == 200
    assert [what for what, _ in seen].count("view") == 1


async def test_an_exception_is_a_500_and_the_thread_serves_the_next_request():
    app = PooledThreadASGIHandler(threads=1)
    status, _, body = await get(app, "/broken/")
    assert status == 500 and b"boom" not in body
    assert (await get(app, "/where/"))[0] == 200


def test_threads_must_be_at_least_one():
    with pytest.raises(ValueError):
        PooledThreadASGIHandler(threads=0)

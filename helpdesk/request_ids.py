"""A request id on every log line: taken from the proxy's X-Request-ID when it is a sane token,
otherwise made here; sent back on the response so a report can name it."""

import contextvars
import logging
import re
import uuid

from django.core.signals import request_finished
from django.dispatch import receiver

_current = contextvars.ContextVar("request_id", default="-")
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{8,64}\Z")


def current():
    return _current.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if _ACCEPTED.match(offered) else uuid.uuid4().hex
        # Not reset on the way out: Django logs a 4xx or 5xx answer after the middleware returns.
        # request_finished clears it.
        _current.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


@receiver(request_finished)
def _forget(sender, **kwargs):
    _current.set("-")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request)."""

    def filter(self, record):
        record.request_id = _current.get()
        return True

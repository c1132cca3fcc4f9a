"""Counts and times every HTTP request by its route name, never by its raw path (bounded labels)."""

import time

from django.conf import settings

from . import metrics


def route_of(request):
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name
    # Static files are answered before URL resolution.
    if settings.STATIC_URL.startswith("/") and request.path_info.startswith(settings.STATIC_URL):
        return "static"
    return "unmatched"


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        metrics.observe_request(request.method, route_of(request), response.status_code, time.perf_counter() - started)
        return response

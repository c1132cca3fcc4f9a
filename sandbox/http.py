"""Cross-cutting HTTP behaviour: CORS on every API answer, injected faults, request counts."""

import asyncio
import json

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpResponse, JsonResponse

from . import runtime

ALLOWED_HEADERS = ("Authorization, Content-Type, X-CobrowsePlatform, X-CobrowseSDKVersion, "
                   "X-CobrowseAPIVersion, X-CobrowseLicense")


def json_error(status, error_id, message):
    return JsonResponse({"id": error_id, "message": message}, status=status)


def cors(response, request):
    origin = request.headers.get("Origin")
    response["Access-Control-Allow-Origin"] = origin or "*"
    response["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE, OPTIONS"
    response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response["Access-Control-Max-Age"] = "600"
    if origin:
        response["Vary"] = "Origin"
    return response


class SandboxMiddleware:
    async_capable = True
    sync_capable = False

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    async def __call__(self, request):
        from .sweeper import ensure_started

        ensure_started()
        path = request.path
        if not path.startswith("/api/"):
            return await self.get_response(request)
        runtime.stats[path.split("?")[0].rstrip("/")] += 1
        runtime.stats["api"] += 1
        if request.method == "OPTIONS":
            return cors(HttpResponse(status=204), request)
        fault = runtime.take_fault(path)
        if fault:
            if fault["mode"] == "503":
                return cors(json_error(503, "unavailable", "service unavailable"), request)
            if fault["mode"] == "expired_token":
                return cors(json_error(401, "unauthorized", "jwt expired"), request)
            if fault["mode"] == "hang":
                await asyncio.sleep(float(fault["seconds"] or 30))
        response = await self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/json"):
            response = json_error(response.status_code, "not_found" if response.status_code == 404 else "error",
                                  "not found" if response.status_code == 404 else "request failed")
        return cors(response, request)


def read_json(request):
    from .errors import invalid

    if not request.body:
        return {}
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deeply
        raise invalid("invalid_request", "body is not valid JSON") from None

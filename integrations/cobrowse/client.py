"""REST client for the Cobrowse agent API (/api/1/...), on the outbound HTTP layer (helpdesk.outbound).

Every call has connect and read timeouts and obeys the outbound address policy; redirects are not
followed. Idempotent calls (GET, PUT) are retried with backoff on connection errors and 502/503/504;
POSTs are not. Failures raise typed errors so callers can decide: retry later (Unavailable), mint a
fresh token (TokenExpired), tell the agent (the rest).
"""

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from urllib3.util.retry import Retry

from helpdesk import outbound

from . import account

SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}\Z")  # \Z: "$" also matches before a final newline
MAX_PAGE = 1000


class CobrowseError(Exception):
    """A Cobrowse call failed. `status` is the HTTP status (None without a response)."""

    def __init__(self, message, status=None, error_id=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_id = error_id


class Unavailable(CobrowseError):
    """The service could not be reached, timed out, or answered 5xx/429: try again later."""


class NotConfigured(Unavailable):
    """No token could be made (no usable signing key or license key): nothing was sent. Retried
    like an outage, it works again once an admin fixes the configuration; the message says what."""


class AuthError(CobrowseError):
    """401: the token was refused (bad signature, wrong issuer or audience...)."""


class TokenExpired(AuthError):
    """401 "jwt expired": mint a new token and retry."""


class Forbidden(CobrowseError):
    """403: the agent's role or JWT policy does not allow this."""


class NotFound(CobrowseError):
    """404: no such session, code or device (in this account)."""


class BadRequest(CobrowseError):
    """400: the request was refused as invalid (e.g. a change on an ended session)."""


class Unpageable(CobrowseError):
    """A listing cannot be paged exactly: a whole page of sessions shares one activation millisecond."""


class UrlRefused(CobrowseError):
    """The outbound policy refuses the API's URL (e.g. its host resolves to a private address):
    nothing was sent."""


_transport = outbound.Transport(
    "cobrowse",
    retry=Retry(
        total=2, connect=2, read=1, status=2, backoff_factor=0.3,
        status_forcelist=(502, 503, 504), allowed_methods=frozenset({"GET", "PUT"}),
        raise_on_status=False, respect_retry_after_header=False,
    ),
    headers={"Content-Type": "application/json", "X-CobrowsePlatform": "helpdesk-python"},
    pool_maxsize=16,
)


ONE_MS = timedelta(milliseconds=1)


def _activated(session):
    """A listed session's position in the order: its activation time, else its creation time (6.5.1)."""
    raw = session.get("activated") or session.get("created")
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError) as exc:
        raise Unavailable("Cobrowse listed a session without a readable activation time.") from exc
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _iso(value):
    """CONTRACT 6.13: ISO-8601 UTC with Z, to the millisecond (a finer time is kept, not rounded)."""
    value = value.astimezone(timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return (text[:-3] if value.microsecond % 1000 == 0 else text) + "Z"


def _query(params):
    """Encode like the official SDK (qs, arrayFormat brackets): lists become key[]=v."""
    pairs = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            value = _iso(value)
        if isinstance(value, (list, tuple)):
            pairs.extend((f"{key}[]", v) for v in value)
        else:
            pairs.append((key, value))
    return pairs


@dataclass
class CobrowseClient:
    """Calls made with one agent's token. `token_source(refresh=False)` returns a JWT."""

    token_source: object
    api: str = ""
    calls: int = 0

    def __post_init__(self):
        self.api = (self.api or account.api()).rstrip("/")

    # --- transport -------------------------------------------------------------------------
    def _request(self, method, path, *, params=None, json=None, token=None):
        retry_expired = token is None
        token = token or self._token(refresh=False)
        try:
            self.calls += 1
            response = _transport.request(
                method, f"{self.api}{path}", params=_query(params or {}), json=json,
                headers={"Authorization": f"Bearer {token}"},
                timeout=(settings.COBROWSE_CONNECT_TIMEOUT, settings.COBROWSE_READ_TIMEOUT),
                ids={"call": f"{method} {path}"},
            )
        except outbound.Refused as exc:
            raise UrlRefused(f"Cobrowse is not called: {exc.message}.") from exc
        except outbound.Timeout as exc:
            raise Unavailable("Cobrowse did not answer in time.") from exc
        except outbound.OutboundError as exc:
            raise Unavailable("Cobrowse could not be reached.") from exc
        if 300 <= response.status_code < 400:
            raise CobrowseError(f"Cobrowse answered {response.status_code} (redirects are not followed).",
                                response.status_code)
        if response.status_code < 400:
            try:
                return response.json()
            except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than json can parse
                raise Unavailable("Cobrowse answered with something that is not JSON.", response.status_code) from exc
        error = self._error(response)
        if isinstance(error, TokenExpired) and retry_expired:
            return self._request(method, path, params=params, json=json, token=self._token(refresh=True))
        raise error

    def with_token_made_now(self):
        """A copy of this client that uses the token it would use now, made here (minting may read
        the database: this keeps it on the caller's thread), and makes a new one only when Cobrowse
        says it expired."""
        token, source = self._token(refresh=False), self.token_source
        return replace(self, token_source=lambda refresh=False: source(refresh=True) if refresh else token)

    def _token(self, refresh):
        try:
            return self.token_source(refresh=refresh)
        except ImproperlyConfigured as exc:  # the message names the key or setting, never its content
            raise NotConfigured(str(exc)) from exc

    @staticmethod
    def _error(response):
        status = response.status_code
        try:
            body = response.json()
            error_id, message = body.get("id"), body.get("message") or ""
        except (ValueError, AttributeError, RecursionError):
            error_id, message = None, response.text[:200]
        if status == 401:
            if message == "jwt expired":
                return TokenExpired("The Cobrowse token has expired.", status, error_id)
            return AuthError(f"Cobrowse refused the token: {message or 'unauthorized'}.", status, error_id)
        if status == 403:
            return Forbidden(f"Not allowed by Cobrowse: {message or 'forbidden'}.", status, error_id)
        if status == 404:
            return NotFound(message or "Not found in Cobrowse.", status, error_id)
        if status == 400:
            return BadRequest(f"Cobrowse refused the request: {message}.", status, error_id)
        if status == 429 or status >= 500:
            return Unavailable(f"Cobrowse is unavailable ({status}).", status, error_id)
        return CobrowseError(f"Cobrowse answered {status}: {message}.", status, error_id)

    # --- sessions --------------------------------------------------------------------------
    def list_sessions(self, **query):
        return self._request("GET", "/api/1/sessions", params=query)

    def get_session(self, id_or_code):
        if not SESSION_ID_RE.match(id_or_code or ""):
            raise NotFound("That is not a Cobrowse session id.")
        return self._request("GET", f"/api/1/sessions/{id_or_code}")

    def update_session(self, session_id, changes):
        return self._request("PUT", f"/api/1/sessions/{session_id}", json={**changes, "id": session_id})

    def end_session(self, session_id):
        return self.update_session(session_id, {"state": "ended"})

    def iter_sessions(self, page_size=MAX_PAGE, **query):
        """Every session matching the query exactly once, paging past the service's limit.

        CONTRACT 6.5.1: newest first, `activated_before` is strict, no cursor, and several sessions
        can share an activation millisecond. Paging with `activated_before=<last item's time>`
        would skip the rest of the last item's millisecond, so the next page starts one millisecond
        later instead: it repeats that millisecond's sessions, and those already yielded (known by
        id) are dropped. Every session newer than that millisecond was on the page just read (the
        order is by time), so nothing is skipped. If a whole page shares one millisecond, no query
        the contract allows reaches the sessions past it (limit is at most 1,000): Unpageable
        rather than a wrong count.
        """
        before = query.pop("activated_before", None)
        seen = set()  # ids already yielded from the millisecond the next page starts at
        while True:
            page = self.list_sessions(limit=page_size, activated_before=before, **query)
            for s in page:
                if s["id"] not in seen:
                    yield s
            if len(page) < page_size:
                return
            before = _activated(page[-1]) + ONE_MS
            if _activated(page[0]) < before:
                raise Unpageable(f"At least {page_size} sessions share the activation millisecond "
                                 f"{_iso(before - ONE_MS)}: Cobrowse's listing cannot page past them.")
            seen = set()
            for s in reversed(page):  # newest first: the page's last millisecond is at its end
                if _activated(s) >= before:
                    break
                seen.add(s["id"])

    def count_sessions(self, **query):
        return sum(1 for _ in self.iter_sessions(**query))

    # --- devices ---------------------------------------------------------------------------
    def list_devices(self, **query):
        return self._request("GET", "/api/1/devices", params=query)

    def get_device(self, device_id):
        if not SESSION_ID_RE.match(device_id or ""):
            raise NotFound("That is not a Cobrowse device id.")
        return self._request("GET", f"/api/1/devices/{device_id}")

    def notify_device(self, device_id, session_id, attempt=1):
        return self._request(
            "POST", f"/api/1/devices/{device_id}/notifications", json={"session": session_id, "attempt": attempt}
        )

    # --- users -----------------------------------------------------------------------------
    def me(self):
        return self._request("GET", "/api/1/users/me")

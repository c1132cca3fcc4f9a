"""The one way out: every outbound HTTP request (Cobrowse API calls, webhook deliveries) goes
through a Transport of this module.

A Transport keeps one pooled requests session per thread, applies the caller's timeout and retry
policy, never follows redirects, turns failures into OutboundError and logs each one with the
caller's ids (never headers, tokens, bodies or URL paths, which may carry a secret).

The address policy: the target's host is resolved and every address it resolves to must be a
global unicast address; loopback, private, link-local, multicast, reserved, unspecified and
carrier-grade NAT addresses (also as IPv4-mapped, 6to4 or NAT64 IPv6 forms) are refused unless
they are in settings.OUTBOUND_ALLOWED_NETWORKS. Forms check it when a URL is saved (validate_url)
and the connection checks it again when it connects: it resolves the name once, checks every
address and connects to a checked address, so a name cannot be re-pointed between check and
connect. The Host header, TLS SNI and certificate verification stay on the name.
"""

import ipaddress
import logging
import socket
import threading
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError, ReadTimeoutError
from urllib3.util import connection
from urllib3.util.connection import allowed_gai_family
from urllib3.util.retry import Retry

logger = logging.getLogger(__name__)

SCHEMES = ("http", "https")
_PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")]
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundError(Exception):
    """An outbound request failed or was not made. `host` is the target's host (no path)."""

    def __init__(self, message, host=""):
        super().__init__(message)
        self.message = message
        self.host = host


class Refused(OutboundError):
    """The request was not made: a scheme or address the policy does not allow."""


class AddressRefused(Refused):
    """The host resolves to an address the policy refuses; `address` and `kind` say which."""

    def __init__(self, host, address, kind):
        super().__init__(f"{host} resolves to {address}, a {kind} address", host)
        self.address = address
        self.kind = kind

    @property
    def short(self):
        """As the webhook delivery log says it."""
        return f"refused by the address policy: {self.host} resolves to {self.address} ({self.kind})"


class Unresolvable(OutboundError):
    """The host's name does not resolve."""


class Timeout(OutboundError):
    """No connection or no answer in time."""


class Unreachable(OutboundError):
    """The connection failed or broke (refused, reset, TLS error...)."""


# --- the address policy ------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _networks(values):
    try:
        return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(f"OUTBOUND_ALLOWED_NETWORKS: {exc}") from None


def allowed_networks():
    return _networks(tuple(settings.OUTBOUND_ALLOWED_NETWORKS))


def _embedded_ipv4(ip):
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), or None."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _kind(ip):
    """What is wrong with this address for an outbound request, or None for global unicast."""
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip in _CGNAT:
        return "carrier-grade NAT"
    if any(ip in net for net in _PRIVATE if net.version == ip.version):
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "reserved"
    return None


def refusal(address):
    """Why the policy refuses `address` ("loopback", "private"...), or None when it is allowed."""
    if in_allowed_networks(address):
        return None
    ip = _ip(address)
    inner = _embedded_ipv4(ip)
    if inner is not None:
        kind = _kind(inner)
        if kind or ip.ipv4_mapped or ip in _NAT64:  # only a way of writing the IPv4 address
            return kind
    return _kind(ip)


def in_allowed_networks(address):
    """Is the address (or the IPv4 address it stands for) in settings.OUTBOUND_ALLOWED_NETWORKS?"""
    ip = _ip(address)
    candidates = [c for c in (ip, _embedded_ipv4(ip)) if c is not None]
    return any(c in net for c in candidates for net in allowed_networks() if net.version == c.version)


def _ip(address):
    if isinstance(address, str):
        return ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone id
    return address


def resolve(host, port):
    """getaddrinfo results for host:port (TCP), each address checked by the policy.
    Raises AddressRefused if any address is refused, Unresolvable if there is none."""
    host = host.strip("[]")
    try:
        results = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"{host} does not resolve ({exc})", host) from exc
    if not results:
        raise Unresolvable(f"{host} does not resolve", host)
    for *_, sockaddr in results:
        kind = refusal(sockaddr[0])
        if kind:
            raise AddressRefused(host, sockaddr[0].split("%", 1)[0], kind)
    return results


def check_url(url, *, https_required=False):
    """Apply the policy to a URL as it would be requested: http or https, a host that resolves
    only to allowed addresses and, with https_required, plain http only to the allowed networks.
    Returns the checked addresses; raises OutboundError."""
    parts = _http_url(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("the URL has an invalid port", parts.hostname) from None
    addresses = [sockaddr[0] for *_, sockaddr in resolve(parts.hostname, port)]
    if parts.scheme == "http" and https_required:
        _check_plain_http(parts.hostname, addresses)
    return addresses


def _http_url(url):
    """The parts of an http(s) URL with a host; Refused for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise Refused("only http and https URLs with a host can be requested", parts.hostname or "")
    return parts


def _check_plain_http(host, addresses):
    """Where https is required, plain http may only reach OUTBOUND_ALLOWED_NETWORKS."""
    if not all(in_allowed_networks(a) for a in addresses):
        raise Refused(f"{host} must be reached over https (plain http only to OUTBOUND_ALLOWED_NETWORKS)", host)


def validate_url(url, *, https_required=False):
    """check_url for forms: a ValidationError with a sentence an admin can act on."""
    try:
        check_url(url, https_required=https_required)
    except AddressRefused as exc:
        raise ValidationError(
            f"{exc.message}: the helpdesk does not send requests to loopback, private, link-local or reserved "
            "addresses (an operator can allow a network with OUTBOUND_ALLOWED_NETWORKS).", code="address_refused")
    except Unresolvable as exc:
        raise ValidationError(f"{exc.host} does not resolve: check the host name.", code="unresolvable")
    except OutboundError as exc:
        raise ValidationError(f"Not allowed: {exc.message}.", code="refused")


# --- connections that connect only to checked addresses ------------------------------------------

class _CheckedConnectionMixin:
    # Plain http only to OUTBOUND_ALLOWED_NETWORKS (set per transport, read at connect time).
    https_required = staticmethod(lambda: False)

    def _new_conn(self):
        try:
            results = resolve(self._dns_host, self.port)  # raises AddressRefused before any connection
        except Unresolvable as exc:
            raise NameResolutionError(self.host, self, exc.__cause__) from exc
        addresses = list(dict.fromkeys(sockaddr[0] for *_, sockaddr in results))
        if not isinstance(self, HTTPSConnection) and self.https_required():
            _check_plain_http(self.host, addresses)
        error = None
        for address in addresses:  # connect to a checked address, never to the name
            try:
                return connection.create_connection((address, self.port), self.timeout,
                                                    source_address=self.source_address,
                                                    socket_options=self.socket_options)
            except TimeoutError as exc:  # socket.timeout
                error = ConnectTimeoutError(self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})")
                error.__cause__ = exc
            except OSError as exc:
                error = NewConnectionError(self, f"Failed to establish a new connection: {exc}")
                error.__cause__ = exc
        raise error


class CheckedHTTPConnection(_CheckedConnectionMixin, HTTPConnection):
    pass


class CheckedHTTPSConnection(_CheckedConnectionMixin, HTTPSConnection):
    pass


class PolicyAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections apply the address policy when they connect."""

    def __init__(self, *, https_required=False, **kwargs):
        required = (lambda: not settings.DEBUG) if https_required else (lambda: False)
        self._classes = {
            "http": type("CheckedHTTPConnectionPool", (HTTPConnectionPool,), {
                "ConnectionCls": type("CheckedHTTP", (CheckedHTTPConnection,), {"https_required": staticmethod(required)})}),
            "https": type("CheckedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": CheckedHTTPSConnection}),
        }
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._classes

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        raise Refused("outbound requests do not go through a proxy")


class Transport:
    """Outbound HTTP for one kind of caller. `retry` is a urllib3 Retry (None: no retries);
    `https_required`: with DEBUG off, plain http only to OUTBOUND_ALLOWED_NETWORKS."""

    def __init__(self, name, *, retry=None, headers=None, pool_maxsize=10, https_required=False):
        self.name = name
        self.retry = retry if retry is not None else Retry(0, read=False)
        self.headers = dict(headers or {})
        self.pool_maxsize = pool_maxsize
        self.https_required = https_required
        self._local = threading.local()

    def session(self):
        """One pooled session per thread (requests sessions are not guaranteed thread-safe)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxy or netrc from the environment: the policy sees the real target
            adapter = PolicyAdapter(https_required=self.https_required, pool_connections=4,
                                    pool_maxsize=self.pool_maxsize, max_retries=self.retry)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.update(self.headers)
            self._local.session = session
        return session

    def request(self, method, url, *, timeout, ids=None, **kwargs):
        """Send one request; returns the requests Response (any status) or raises OutboundError.
        `ids` (a dict) names what the request is for in the log line of a failure."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            _http_url(url)
            response = self.session().request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
        except OutboundError as exc:
            self._log(method, parts, exc, ids)
            raise
        except requests.RequestException as exc:
            error = self._error(exc, host)
            self._log(method, parts, error, ids)
            raise error from exc
        if response.status_code >= 500 or response.status_code == 429:
            self._log(method, parts, f"HTTP {response.status_code}", ids)
        return response

    @staticmethod
    def _error(exc, host):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(exc, requests.Timeout) or isinstance(reason, (TimeoutError, ReadTimeoutError)):
            return Timeout(f"{host} did not answer in time", host)
        if isinstance(reason, NameResolutionError):
            return Unresolvable(f"{host} does not resolve", host)
        return Unreachable(f"{host} could not be reached ({type(exc).__name__})", host)

    def _log(self, method, parts, error, ids):
        what = " ".join(f"{k}={v}" for k, v in (ids or {}).items())
        kind = type(error).__name__ if isinstance(error, Exception) else "Response"
        message = getattr(error, "short", None) or getattr(error, "message", None) or str(error)
        target = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"  # no credentials, no path
        logger.warning("outbound %s %s %s failed: %s: %s %s", self.name, method, target, kind, message, what)


def excerpt(response, chars=200):
    """At most `chars` characters of a streamed response's body; reads no more than it needs."""
    try:
        raw = response.raw.read(chars * 4, decode_content=True) or b""
    except Exception:  # an excerpt is best effort: a broken body is no reason to fail
        raw = b""
    finally:
        response.close()
    return raw.decode(response.encoding or "utf-8", errors="replace")[:chars]

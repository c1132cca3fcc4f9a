"""Prometheus metrics at /metrics: what each process counts, and what the database says at scrape time.

With PROMETHEUS_MULTIPROC_DIR set, every process (daphne, gunicorn workers, task workers) writes its
values to files in that shared directory and a scrape of any one of them sums them all; the
directory must be emptied before the processes start (scripts/run.sh does). Without it, a scrape
shows the answering process only. Facts kept in the database (pending ends, queued tasks, webhook
deliveries) are read at scrape time, so they are right whichever process answers.
"""

import hmac
import ipaddress
import logging
import os

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import disable_created_metrics, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SOCKET_KINDS = ("agent", "widget")
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

# The *_created series (one gauge per counter child) double the output for nothing a query here needs.
disable_created_metrics()

HTTP_REQUESTS = Counter("helpdesk_http_requests_total", "HTTP requests answered, by route name and status.",
                        ["method", "route", "status"])
HTTP_DURATION = Histogram("helpdesk_http_request_duration_seconds", "Time to answer an HTTP request, by route name.",
                          ["method", "route"])
COBROWSE_END_SECONDS = Histogram(
    "helpdesk_cobrowse_end_seconds", "From a close (ticket or chat) to its linked session ended at Cobrowse.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60))
# livesum: a process that dies (and is marked dead) takes its open sockets with it.
WEBSOCKETS_OPEN = Gauge("helpdesk_websockets_open", "Websockets open now, by kind.", ["kind"],
                        multiprocess_mode="livesum")
WEBHOOK_ATTEMPTS = Counter("helpdesk_webhook_attempts_total", "Outgoing webhook delivery attempts, by result.",
                           ["result"])
for _kind in SOCKET_KINDS:
    WEBSOCKETS_OPEN.labels(_kind)
for _result in ("delivered", "retry", "failed"):
    WEBHOOK_ATTEMPTS.labels(_result)


# --- what the processes observe -------------------------------------------------------------------

def observe_request(method, route, status, seconds):
    method = method if method in METHODS else "other"
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


def observe_session_end(end_requested_at, ended_at):
    COBROWSE_END_SECONDS.observe(max(0.0, (ended_at - end_requested_at).total_seconds()))


def observe_webhook_attempt(result):
    WEBHOOK_ATTEMPTS.labels(result).inc()


class CountedSocket:
    """Mixin of a websocket consumer: counted in helpdesk_websockets_open{kind=socket_kind} from
    its accept until the consumer ends (disconnect, or a crash)."""

    socket_kind = None
    _counted = False

    async def accept(self, *args, **kwargs):
        await super().accept(*args, **kwargs)
        if not self._counted:
            self._counted = True
            WEBSOCKETS_OPEN.labels(self.socket_kind).inc()

    async def __call__(self, scope, receive, send):
        try:
            return await super().__call__(scope, receive, send)
        finally:
            if self._counted:
                self._counted = False
                WEBSOCKETS_OPEN.labels(self.socket_kind).dec()


def child_exit(server, worker):
    """Gunicorn's child_exit hook (`from helpdesk.ops.metrics import child_exit` in its config):
    a dead worker's open sockets no longer count."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(worker.pid)


# --- what the database says -----------------------------------------------------------------------

class DatabaseCollector:
    """Read at every scrape. A database that cannot be read leaves these out (logged), not the rest."""

    def describe(self):  # registering must not query the database
        return [GaugeMetricFamily("helpdesk_cobrowse_ends_pending", ""),
                GaugeMetricFamily("helpdesk_tasks_pending", ""),
                CounterMetricFamily("helpdesk_webhook_deliveries", "")]

    def collect(self):
        try:
            families = self._read()
        except DatabaseError as exc:
            log.warning("Metrics: the database could not be read, its metrics are left out (%s: %s)",
                        type(exc).__name__, exc)
            return []
        return families

    def _read(self):
        from django_tasks_db.models import DBTaskResult
        from django_tasks.base import TaskResultStatus

        from helpdesk.webhooks.models import Delivery
        from integrations.cobrowse.models import SessionLink

        ends = GaugeMetricFamily("helpdesk_cobrowse_ends_pending",
                                 "Co-browse sessions whose end was requested and not yet done.")
        ends.add_metric([], SessionLink.objects.filter(end_requested_at__isnull=False, ended_at__isnull=True).count())

        queues = dict.fromkeys(settings.TASKS["default"].get("QUEUES") or ["default"], 0)
        ready = DBTaskResult.objects.filter(status=TaskResultStatus.READY).values("queue_name")
        queues.update((row["queue_name"], row["n"]) for row in ready.annotate(n=Count("pk")).order_by())
        tasks = GaugeMetricFamily("helpdesk_tasks_pending", "Tasks waiting to run, by queue (scheduled retries too).",
                                  labels=["queue"])
        for queue, count in sorted(queues.items()):
            tasks.add_metric([queue], count)

        outcomes = dict.fromkeys(Delivery.State.values, 0)
        outcomes.update((row["state"], row["n"])
                        for row in Delivery.objects.values("state").annotate(n=Count("pk")).order_by())
        deliveries = CounterMetricFamily("helpdesk_webhook_deliveries",
                                         "Outgoing webhook deliveries logged, by outcome (pending ones also go down).",
                                         labels=["outcome"])
        for outcome, count in sorted(outcomes.items()):
            deliveries.add_metric([outcome], count)
        return [ends, tasks, deliveries]


_database = DatabaseCollector()
REGISTRY.register(_database)


def _registry():
    if os.environ.get(MULTIPROC_ENV):
        # A fresh registry per scrape, as prometheus_client asks: the files of every process, and the database.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_database)
        return registry
    return REGISTRY


# --- the endpoint -----------------------------------------------------------------------------------

def _from_loopback(request):
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return address.is_loopback or bool(getattr(address, "ipv4_mapped", None) and address.ipv4_mapped.is_loopback)


def _has_token(request):
    expected = settings.METRICS_TOKEN
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(
        offered.strip().encode(), expected.encode())


@never_cache
@require_safe
def metrics_view(request):
    # Neither request.user nor request.session is read: a scrape never sets a cookie.
    if not (_from_loopback(request) or _has_token(request)):
        return HttpResponseForbidden("Metrics are served to loopback, or with the METRICS_TOKEN bearer token.\n",
                                     content_type="text/plain")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)

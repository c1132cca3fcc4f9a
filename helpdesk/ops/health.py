"""/healthz: the process answers. /readyz: everything a request or a close depends on works.

/readyz reports, each "ok" or failing with a reason: the database, the cache, a round trip through
the channel layer, the heartbeat of a worker for every task queue, and the oldest task waiting on
each queue. 200 when all are ok, 503 otherwise. Neither touches the session or the signed-in user.
"""

import asyncio
import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Case, F, Min, When
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks_db.models import DBTaskResult, get_date_max

from .models import WorkerHeartbeat

log = logging.getLogger("helpdesk.ops.health")
CHECK_TIMEOUT = 3.0  # seconds for the channel layer round trip (the cache has its own socket timeouts)
_last_failing = set()


def reason(exc):
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def check_cache():
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    found = cache.get(key)
    cache.delete(key)
    if found != "1":
        return {"ok": False, "reason": "a value written to the cache could not be read back"}
    return {"ok": True}


def check_channel_layer():
    layer = get_channel_layer()

    async def round_trip():
        channel = await layer.new_channel("readyz.")
        await layer.send(channel, {"type": "readyz.ping"})
        return await asyncio.wait_for(layer.receive(channel), CHECK_TIMEOUT)

    try:
        message = async_to_sync(round_trip)()
    except asyncio.TimeoutError:
        return {"ok": False, "reason": f"a message sent through the channel layer did not come back within {CHECK_TIMEOUT:.0f} s"}
    if message.get("type") != "readyz.ping":
        return {"ok": False, "reason": "the channel layer returned another message"}
    return {"ok": True, "backend": type(layer).__name__}


def check_workers(now):
    beats = list(WorkerHeartbeat.objects.all())
    queues, ok = {}, True
    for queue in settings.TASKS["default"]["QUEUES"]:
        serving = [b for b in beats if b.serves(queue)]
        if not serving:
            queues[queue] = {"ok": False, "reason": f"no task worker serves queue {queue!r}"}
            ok = False
            continue
        age = (now - max(b.seen_at for b in serving)).total_seconds()
        fresh = [b for b in serving if (now - b.seen_at).total_seconds() <= settings.WORKER_HEARTBEAT_MAX_AGE]
        report = {"ok": bool(fresh), "heartbeat_age_seconds": round(max(age, 0.0), 1), "workers": len(fresh)}
        if not fresh:
            report["reason"] = f"no heartbeat from a worker of queue {queue!r} for {age:.0f} s"
            ok = False
        queues[queue] = report
    return {"ok": ok, "queues": queues}


def check_tasks(now):
    # A task is due from when it was enqueued, or from its run_after when it was scheduled (a retry).
    due = Case(When(run_after=get_date_max(), then=F("enqueued_at")), default=F("run_after"))
    oldest = dict(
        DBTaskResult.objects.ready().values("queue_name").annotate(due=Min(due)).values_list("queue_name", "due")
    )
    queues, ok = {}, True
    for queue in settings.TASKS["default"]["QUEUES"]:
        age = max((now - oldest[queue]).total_seconds(), 0.0) if queue in oldest else None
        report = {"ok": age is None or age <= settings.READYZ_TASK_MAX_AGE,
                  "oldest_pending_seconds": None if age is None else round(age, 1)}
        if not report["ok"]:
            report["reason"] = f"a task on queue {queue!r} has waited {age:.0f} s"
            ok = False
        queues[queue] = report
    return {"ok": ok, "queues": queues}


def run_guarded(check, *args):
    try:
        return check(*args)
    except Exception as exc:  # a failing dependency is a report, never a 500
        return {"ok": False, "reason": reason(exc)}


def readiness():
    now = timezone.now()
    checks = {"database": run_guarded(check_database), "cache": run_guarded(check_cache),
              "channel_layer": run_guarded(check_channel_layer)}
    if checks["database"]["ok"]:
        checks["workers"] = run_guarded(check_workers, now)
        checks["tasks"] = run_guarded(check_tasks, now)
    else:
        checks["workers"] = checks["tasks"] = {"ok": False, "reason": "the database is not reachable"}
    return checks


def log_transition(failing):
    global _last_failing
    if failing != _last_failing:
        if failing:
            log.warning("readiness failing checks=%s", ",".join(sorted(failing)))
        else:
            log.info("readiness ok again")
        _last_failing = failing


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    checks = readiness()
    failing = {name for name, report in checks.items() if not report["ok"]}
    log_transition(failing)
    return JsonResponse({"status": "failing" if failing else "ok", "checks": checks}, status=503 if failing else 200)

"""Durable background work (django-tasks, database backend, run by `manage.py task_worker --queue-name cobrowse`).

A task that cannot finish because Cobrowse is unavailable enqueues its own next attempt with a
backoff; the reconciler re-enqueues anything a killed worker left behind.
"""

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from . import services
from .client import CobrowseError

log = logging.getLogger(__name__)


def _again(task_fn, delay, *args):
    task_fn.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(*args)


COBROWSE_QUEUE = "cobrowse"


@task(queue_name=COBROWSE_QUEUE)
def end_session(link_id):
    delay = services.try_end(link_id)
    if delay is not None:
        _again(end_session, delay, link_id)


@task(queue_name=COBROWSE_QUEUE)
def tag_session(link_id):
    delay = services.tag(link_id)
    if delay is not None:
        _again(tag_session, delay, link_id)


@task()
def reconcile():
    try:
        return services.reconcile()
    except CobrowseError as exc:  # unavailable or not configured: the next run tries again
        log.warning("Co-browse reconcile stopped, Cobrowse cannot be used: %s", exc.message)
        return {"error": exc.message}

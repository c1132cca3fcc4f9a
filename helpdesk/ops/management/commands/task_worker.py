"""django-tasks-db's db_worker with a heartbeat, so /readyz can tell when a queue has no live worker."""

import logging
import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.compat import TASKS_LOGGER
from django_tasks_db.management.commands import db_worker

from helpdesk.ops.heartbeat import Heartbeat


class Command(db_worker.Command):
    help = "Run a task worker for the given queues (db_worker with a heartbeat for /readyz)."

    def configure_logging(self, verbosity):
        # db_worker's -v0 silences everything, a failed task's traceback too: keep warnings and errors.
        level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
        for name in (TASKS_LOGGER, "django_tasks_db"):
            logging.getLogger(name).setLevel(level)

    def handle(self, *args, queue_name, worker_id, reload, **options):
        # Under --reload the parent only watches files; the child it starts runs the tasks and beats.
        if reload and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            return super().handle(*args, queue_name=queue_name, worker_id=worker_id, reload=reload, **options)
        heartbeat = Heartbeat(worker_id, queue_name.split(","))
        heartbeat.start()
        try:
            return super().handle(*args, queue_name=queue_name, worker_id=worker_id, reload=reload, **options)
        finally:
            heartbeat.stop()

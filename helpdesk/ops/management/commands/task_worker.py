"""django-tasks-db's db_worker with a heartbeat, so /readyz can tell when a queue has no live worker."""

import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from helpdesk.ops.heartbeat import Heartbeat


class Command(db_worker.Command):
    help = "Run a task worker for the given queues (db_worker with a heartbeat for /readyz)."

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

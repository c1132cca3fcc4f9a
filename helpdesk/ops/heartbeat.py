"""Task worker heartbeats: a thread of each worker writes its row every WORKER_HEARTBEAT_SECONDS;
/readyz reads the rows. A stopped (or frozen) process stops beating; a cleanly stopped one deletes
its row."""

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from .models import WorkerHeartbeat

log = logging.getLogger("helpdesk.ops.heartbeat")


def beat(worker_id, queues, started_at):
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"queues": ",".join(queues), "host": socket.gethostname()[:255], "pid": os.getpid(),
                  "started_at": started_at, "seen_at": timezone.now()},
    )


class Heartbeat:
    def __init__(self, worker_id, queues):
        self.worker_id = worker_id
        self.queues = queues
        self.started_at = timezone.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{worker_id}", daemon=True)

    def start(self):
        beat(self.worker_id, self.queues, self.started_at)  # before the first task: ready at once
        self._thread.start()

    def _run(self):
        while not self._stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
            try:
                beat(self.worker_id, self.queues, self.started_at)
            except DatabaseError:
                log.exception("heartbeat failed worker_id=%s queues=%s", self.worker_id, ",".join(self.queues))
            finally:
                close_old_connections()
        connection.close()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        except DatabaseError:
            log.exception("could not remove heartbeat worker_id=%s", self.worker_id)

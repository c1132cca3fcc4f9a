from django.db import models


class WorkerHeartbeat(models.Model):
    """A running task worker: which queues it serves, and when it last said it was alive."""

    worker_id = models.CharField(max_length=64, unique=True)
    queues = models.CharField(max_length=200, help_text="Comma-separated queue names; '*' for all.")
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def serves(self, queue):
        names = self.queues.split(",")
        return "*" in names or queue in names

    def __str__(self):
        return f"{self.worker_id} ({self.queues}) on {self.host}:{self.pid}"

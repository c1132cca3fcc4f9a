from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from . import outgoing


@task()
def deliver(delivery_id):
    delay = outgoing.attempt(delivery_id)
    if delay is not None:
        deliver.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(delivery_id)

"""Durable chat work (django-tasks, run by `manage.py task_worker`)."""

from django_tasks import task

from . import services


@task()
def close_if_customer_gone(chat_id):
    return services.close_if_customer_gone(chat_id)

"""Scheduled clean-up: finished task results, expired Django sessions and "Viewing now" rows that a
crashed process left behind (their socket stopped touching them)."""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from helpdesk.consumers import VIEWER_TOUCH_SECONDS
from helpdesk.live import push_fragments
from helpdesk.management.periodic import PeriodicCommand
from helpdesk.models import TicketViewer
from helpdesk.ops.models import WorkerHeartbeat


def prune_task_results(now):
    cutoff = now - timedelta(days=settings.TASK_RESULTS_KEEP_DAYS)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lte=cutoff).delete()
    return deleted


def prune_sessions(now):
    # The database holds every session (the cached_db engine too); expired ones are never read again.
    deleted, _ = Session.objects.filter(expire_date__lt=now).delete()
    return deleted


def prune_stale_viewers(now):
    stale = TicketViewer.objects.filter(seen_at__lt=now - timedelta(seconds=3 * VIEWER_TOUCH_SECONDS))
    ticket_ids = set(stale.values_list("ticket_id", flat=True))
    deleted, _ = stale.delete()
    for ticket_id in ticket_ids:
        push_fragments(ticket_id, "viewers")
    return deleted


def prune_heartbeats(now):
    # A worker that was killed never removed its row; /readyz has long counted it as gone.
    deleted, _ = WorkerHeartbeat.objects.filter(seen_at__lt=now - timedelta(days=1)).delete()
    return deleted


class Command(PeriodicCommand):
    help = "Delete finished task results, expired sessions, stale 'Viewing now' rows and old worker heartbeats."

    def run_once(self, verbose):
        now = timezone.now()
        report = {
            "task_results": prune_task_results(now),
            "sessions": prune_sessions(now),
            "viewers": prune_stale_viewers(now),
            "worker_heartbeats": prune_heartbeats(now),
        }
        if verbose or any(report.values()):
            self.stdout.write(f"prune: {report}")

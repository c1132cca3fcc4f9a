from helpdesk.management.periodic import PeriodicCommand
from helpdesk.webhooks.outgoing import requeue_stalled


class Command(PeriodicCommand):
    help = "Enqueue again outgoing webhook deliveries that a stopped worker left pending."

    def run_once(self, verbose):
        count = requeue_stalled()
        if count or verbose:
            self.stdout.write(f"webhooks: requeued {count} stalled deliveries")

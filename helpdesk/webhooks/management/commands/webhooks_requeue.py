import time

from django.core.management.base import BaseCommand

from helpdesk.webhooks.outgoing import requeue_stalled


class Command(BaseCommand):
    help = "Enqueue again outgoing webhook deliveries that a stopped worker left pending."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="Repeat every N seconds (0: run once).")

    def handle(self, *args, every, **options):
        while True:
            count = requeue_stalled()
            if count or options["verbosity"] > 1:
                self.stdout.write(f"webhooks: requeued {count} stalled deliveries")
            if not every:
                return
            time.sleep(every)

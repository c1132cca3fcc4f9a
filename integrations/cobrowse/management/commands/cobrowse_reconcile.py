import time

from django.core.management.base import BaseCommand

from integrations.cobrowse.client import CobrowseError
from integrations.cobrowse.services import reconcile


class Command(BaseCommand):
    help = "Repair co-browse links: end sessions of closed tickets, retry stalled ends, mark sessions ended elsewhere."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="Repeat every N seconds (0: run once).")

    def handle(self, *args, every, **options):
        while True:
            try:
                report = reconcile()
                if options["verbosity"] > 1 or any(report.values()):
                    self.stdout.write(f"reconcile: {report}")
            except CobrowseError as exc:
                self.stderr.write(f"reconcile: Cobrowse unavailable, will retry: {exc.message}")
            if not every:
                return
            time.sleep(every)

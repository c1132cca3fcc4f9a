import time

from django.core.management.base import BaseCommand


class PeriodicCommand(BaseCommand):
    """A repair job: run_once() once, or every --every seconds until the process is stopped."""

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="Repeat every N seconds (0: run once).")

    def handle(self, *args, every, **options):
        while True:
            self.run_once(verbose=options["verbosity"] > 1)
            if not every:
                return
            time.sleep(every)

    def run_once(self, verbose):
        raise NotImplementedError

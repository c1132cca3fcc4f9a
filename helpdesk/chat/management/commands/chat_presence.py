import time

from django.core.management.base import BaseCommand

from helpdesk.chat.services import sweep_presence


class Command(BaseCommand):
    help = "Mark gone the chat customers whose widgets stopped sending heartbeats (their connection died with a process)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="Repeat every N seconds (0: run once).")

    def handle(self, *args, every, **options):
        while True:
            count = sweep_presence()
            if count or options["verbosity"] > 1:
                self.stdout.write(f"chat: {count} customers marked gone")
            if not every:
                return
            time.sleep(every)

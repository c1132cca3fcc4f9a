from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.cobrowse.demo import seed_history


class Command(BaseCommand):
    help = "Past co-browse sessions on the demo tickets (after seed_demo; safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="seed even with DEBUG off")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError("cobrowse_seed_demo writes demo data; with DEBUG off it runs only with --force.")
        seeded = seed_history()
        self.stdout.write(f"Demo co-browse history: {seeded} past sessions." if seeded else
                          "Demo co-browse history already there.")

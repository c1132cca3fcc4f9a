from helpdesk.chat.services import sweep_presence
from helpdesk.management.periodic import PeriodicCommand


class Command(PeriodicCommand):
    help = "Mark gone the chat customers whose widgets stopped sending heartbeats (their connection died with a process)."

    def run_once(self, verbose):
        count = sweep_presence()
        if count or verbose:
            self.stdout.write(f"chat: {count} customers marked gone")

from helpdesk.management.periodic import PeriodicCommand
from integrations.cobrowse.client import CobrowseError
from integrations.cobrowse.services import reconcile


class Command(PeriodicCommand):
    help = "Repair co-browse links: end sessions of closed tickets, retry stalled ends, mark sessions ended elsewhere."

    def run_once(self, verbose):
        try:
            report = reconcile()
        except CobrowseError as exc:
            self.stderr.write(f"reconcile: Cobrowse unavailable, will retry: {exc.message}")
            return
        if verbose or any(report.values()):
            self.stdout.write(f"reconcile: {report}")

"""Repair jobs that run once, or every --every seconds until the process is stopped.

A run that raises is logged and the loop goes on; SIGTERM or SIGINT stops the loop once the
current run is over (at once while it sleeps). Only one copy of a job runs at a time across
processes: on PostgreSQL through a session advisory lock, on SQLite through a lock file beside the
database; a copy that does not get the lock skips that run.
"""

import contextlib
import fcntl
import logging
import signal
import threading
import zlib
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

log = logging.getLogger("helpdesk.periodic")


@contextlib.contextmanager
def single_runner(name):
    """Yields True when this process holds the job's lock for the block, False when another does."""
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"helpdesk-periodic:{name}".encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            held = cursor.fetchone()[0]
        try:
            yield held
        finally:
            if held:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    lock_dir = Path(settings.VAR_DIR) / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{name}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class PeriodicCommand(BaseCommand):
    """A repair job: run_once() once, or every --every seconds until the process is stopped."""

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="Repeat every N seconds (0: run once).")

    @property
    def job_name(self):
        return self.__module__.rsplit(".", 1)[-1]

    def handle(self, *args, every, **options):
        stopping = threading.Event()
        if every:
            def stop(signum, frame):
                log.info("periodic job=%s stopping on %s", self.job_name, signal.Signals(signum).name)
                stopping.set()

            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        while not stopping.is_set():
            self.run_guarded(verbose=options["verbosity"] > 1, repeating=bool(every))
            if not every:
                return
            stopping.wait(every)

    def run_guarded(self, verbose, repeating):
        if repeating:  # as between two requests: a dropped or expired connection is reopened
            close_old_connections()
        try:
            with single_runner(self.job_name) as held:
                if not held:
                    log.info("periodic job=%s skipped: another process is running it", self.job_name)
                    return
                self.run_once(verbose=verbose)
        except Exception:
            if not repeating:
                raise
            # A repair loop must outlive one bad run (a database restart, a bug on one record).
            # A broken database connection is dropped by close_old_connections() before the next run.
            log.exception("periodic job=%s failed; next run as scheduled", self.job_name)

    def run_once(self, verbose):
        raise NotImplementedError

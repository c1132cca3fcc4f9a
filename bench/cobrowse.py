"""Co-browse figures against a real sandbox process:

- close to ended: an agent closes a ticket; time until the linked session is ended in the
  sandbox (p50/p99 over N tickets), with one task worker; then the same during an outage of the
  sandbox (503 for --outage seconds): every session still ends after it recovers;
- supervisor count: the supervisors' snapshot (uncached, median of 3) of 10,000 active sessions
  with an administrator token (paging past the 1,000 limit), time and REST calls, against one
  listing call as the baseline; then of 25,000, 15,000 of them sharing activation milliseconds
  7 at a time.
  Exact = the total shown equals the active sessions in the sandbox's own database.

    .venv/bin/python -m bench.cobrowse [--tickets 200] [--outage 30] [--sessions 10000] [--json]

With --json the last line is one JSON object with the figures.
"""

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.common import free_port, pct, stop, wait_http

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable




def control(api, method, path, json=None):
    response = requests.request(method, f"{api}/__sandbox__{path}", json=json, timeout=60)
    response.raise_for_status()
    return response.json()


def start(command, env, log):
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)




def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--outage", type=float, default=30)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--more-sessions", type=int, default=15_000, help="added, with ties, for the second count")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object with the figures")
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="cobrowse-bench-"))
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HELPDESK_VAR_DIR": str(var), "PYTHONPATH": str(ROOT), "COBROWSE_API": api,
           "SANDBOX_PUBLIC_URL": api, "SANDBOX_SWEEP_INTERVAL": "0.2"}
    env.pop("DATABASE_URL", None)
    env.pop("SANDBOX_DATABASE_URL", None)
    env.pop("DEBUG", None)
    subprocess.run([PY, "-m", "sandbox.manage", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([PY, "-m", "sandbox.manage", "sandbox_bootstrap"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    sandbox = start([PY, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "sandbox.asgi:application"],
                    {**env, "DJANGO_SETTINGS_MODULE": "sandbox.settings"}, var / "sandbox.log")
    worker = None
    try:
        wait_http(f"{api}/__sandbox__/stats")
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        os.environ.update({k: env[k] for k in ("HELPDESK_VAR_DIR", "COBROWSE_API")})
        os.environ["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings"
        import django

        django.setup()
        from bench.cobrowse_steps import close_and_measure, count_supervisor_sessions, one_page, seed_links

        worker = start([PY, "manage.py", "task_worker", "--queue-name", "*", "--interval", "0.05", "--no-reload"],
                       env, var / "worker.log")
        links = seed_links(api, args.tickets)
        latencies = close_and_measure(api, links)
        figures = {"close_to_ended_p50_ms": round(statistics.median(latencies) * 1000, 1),
                   "close_to_ended_p99_ms": round(pct(latencies, 99) * 1000, 1),
                   "close_to_ended_max_ms": round(max(latencies) * 1000, 1), "tickets": len(latencies)}
        print(f"close -> ended in the sandbox, {len(latencies)} tickets, one worker: "
              f"p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {pct(latencies, 99) * 1000:.0f} ms, "
              f"max {max(latencies) * 1000:.0f} ms")

        links = seed_links(api, max(10, args.tickets // 10))
        control(api, "POST", "/faults", {"mode": "503"})
        started = time.monotonic()
        latencies = close_and_measure(api, links, wait=False)
        time.sleep(max(0, args.outage - (time.monotonic() - started)))
        control(api, "DELETE", "/faults")
        recovered = time.time()
        ended = close_and_measure(api, links, only_wait=True, since=recovered)
        figures.update(outage_seconds=args.outage, outage_sessions_ended=len(ended), outage_sessions=len(links),
                       outage_last_ended_after_s=round(max(ended), 1))
        print(f"outage of {args.outage:.0f} s: {len(ended)}/{len(links)} sessions ended after recovery, "
              f"the last {max(ended):.1f} s after it (backoff ≤ 32 s at that point)")

        stop(worker)  # counting needs no task worker: keep its polling off the 2 cores
        worker = None
        database = var / "sandbox.sqlite3"

        def active_in_sandbox():
            with sqlite3.connect(database) as db:
                return db.execute("SELECT count(*) FROM sandbox_session WHERE state = 'active'").fetchone()[0]

        first = count_supervisor_sessions(api, args.sessions, active_in_sandbox)
        baseline = one_page()
        print(f"supervisor count of {first['total']} active sessions: {first['seconds'] * 1000:.0f} ms "
              f"(median of {len(first['runs'])}: {', '.join(f'{r * 1000:.0f}' for r in first['runs'])}), "
              f"{first['calls']} REST calls, exact: {first['exact']} "
              f"(one 1,000-session page: {baseline * 1000:.0f} ms, ratio {first['seconds'] / baseline:.1f}x)")
        second = count_supervisor_sessions(api, args.more_sessions, active_in_sandbox, same_activated_ms=7)
        print(f"supervisor count of {second['total']} active sessions, {args.more_sessions} of them 7 to an "
              f"activation millisecond: {second['seconds'] * 1000:.0f} ms (median of {len(second['runs'])}), "
              f"{second['calls']} REST calls, exact: {second['exact']}")
        figures.update(
            supervisor_count_seconds=round(first["seconds"], 3), supervisor_count_exact=first["exact"],
            supervisor_count_runs_seconds=[round(r, 3) for r in first["runs"]],
            supervisor_count_calls=first["calls"], supervisor_count_sessions=first["total"],
            supervisor_one_page_ms=round(baseline * 1000, 1),
            supervisor_count_ties_seconds=round(second["seconds"], 3), supervisor_count_ties_exact=second["exact"],
            supervisor_count_ties_calls=second["calls"], supervisor_count_ties_sessions=second["total"])
        if args.json:
            print(json.dumps(figures))
    finally:
        if worker:
            stop(worker)
        stop(sandbox)


if __name__ == "__main__":
    main()

"""Ticket pages under load, against a bare Django view in the same run.

Seeds 10,000 tickets (one with 50 messages and 5 session links), then drives each URL with wrk
under one daphne process and under the pre-forking layout the README recommends for HTTP
(gunicorn sync workers), and prints req/s, p50, p99 and the ratio to the bare view. A counting
HTTP server stands in for Cobrowse: the page renders must not call it. Two more views show what
any signed-in page costs before its content: one that only requires a signed-in agent, and one
that also renders the empty page layout.

    .venv/bin/python -m bench.pages [--duration 8] [--connections 8] [--tickets 10000]
"""

import argparse
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import free_port, keys_into, stop, wait_http

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


class CountingHandler(http.server.BaseHTTPRequestHandler):
    count = 0

    def do_GET(self):  # noqa: N802
        CountingHandler.count += 1
        self.send_response(503)
        self.end_headers()

    do_PUT = do_POST = do_GET

    def log_message(self, *args):
        pass


def wrk(url, cookie, duration, connections):
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-H", f"Cookie: {cookie}", url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def pct(p):
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {"rps": rps, "p50": pct(50), "p99": pct(99), "errors": int(non2xx.group(1)) if non2xx else 0}




def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (apt-get install wrk); `make bench` installs it.")

    fake = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    var = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "HELPDESK_VAR_DIR": str(var),
           "COBROWSE_API": f"http://127.0.0.1:{fake.server_port}", "PYTHONPATH": str(ROOT)}
    env.pop("DEBUG", None)
    keys_into(var / "cobrowse")
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    started = time.monotonic()
    seeded = subprocess.run(
        [PY, "-c", "import django; django.setup(); from bench.seed import seed, session_cookie;"
                   f"a, t = seed({args.tickets}); print(t.pk); print(session_cookie(a))"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout.split()
    ticket_id, cookie = seeded[-2], seeded[-1]
    print(f"seeded {args.tickets} tickets in {time.monotonic() - started:.1f} s ({var})")

    paths = {"bare view": "/bench/bare/", "signed-in only": "/bench/signed-in/", "empty layout": "/bench/layout/",
             "ticket list": "/tickets/", "ticket detail": f"/tickets/{ticket_id}/"}
    layouts = {
        "daphne x1": lambda port: [str(Path(PY).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port), "helpdesk.asgi:application"],
        f"gunicorn x{args.workers}": lambda port: [str(Path(PY).parent / "gunicorn"), "-w", str(args.workers), "-b",
                                                  f"127.0.0.1:{port}", "--log-level", "warning", "helpdesk.wsgi:application"],
    }
    results = {}
    for layout, command in layouts.items():
        port = free_port()
        log = open(var / f"server-{port}.log", "w")
        server = subprocess.Popen(command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_http(f"http://127.0.0.1:{port}/bench/bare/")
            for name, path in paths.items():
                url = f"http://127.0.0.1:{port}{path}"
                wrk(url, cookie, 2, args.connections)  # warm up
                results[layout, name] = wrk(url, cookie, args.duration, args.connections)
        except Exception:
            print((var / f"server-{port}.log").read_text()[-3000:])
            raise
        finally:
            stop(server)

    print(f"\n{'layout':<14} {'page':<14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p50 / bare':>11} {'non-2xx':>8}")
    for (layout, name), r in results.items():
        bare = results[layout, "bare view"]["p50"]
        print(f"{layout:<14} {name:<14} {r['rps']:>8.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['p50'] / bare:>10.2f}x {r['errors']:>8}")
    print(f"\nREST calls to the co-browse service during the runs: {CountingHandler.count}")
    shutil.rmtree(var, ignore_errors=True)
    fake.shutdown()


if __name__ == "__main__":
    main()

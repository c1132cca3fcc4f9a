"""Ticket pages under load, against a bare Django view in the same run.

Seeds 10,000 tickets (one with 50 messages and 5 session links), then drives each URL with wrk
under one daphne process and under the pre-forking layout the README recommends for HTTP
(gunicorn sync workers), and prints req/s, p50, p99 and the ratio to the bare view. A counting
HTTP server stands in for Cobrowse: the page renders must not call it. Two more views show what
any signed-in page costs before its content: one that only requires a signed-in agent, and one
that also renders the empty page layout. On SQLite a third run shows gunicorn opening a new database
connection per request (DB_CONN_MAX_AGE=0) instead of keeping one.

Under daphne the pages are served by the helpdesk's ASGI handler (helpdesk/asgi_handler.py); one
more daphne serves them with Django's own ASGIHandler (bench/django_asgi.py), the baseline it is
measured against in the same run ("handler / Django's").

With --database postgres the same runs go to a throwaway PostgreSQL database (created through
--postgres-url and dropped at the end): daphne and gunicorn each with the connection pool and without
it (each server thread then keeps a connection; gunicorn also connects per request), with the ratio
pool / no pool. All the servers of a run stay up while the layouts take turns on each page; --rounds
N repeats each turn and shows the run with the median req/s.

    .venv/bin/python -m bench.pages [--duration 8] [--connections 8] [--tickets 10000] [--rounds 1]
                                    [--database sqlite|postgres] [--postgres-url URL] [--json]

The ticket page's floor is the signed-in empty layout (Django's session and user reads, the base
template): detail_over_layout_p50 is the ticket page's p50 over the layout's, per layout and, as one
figure, the largest of them. With --json the last line is one JSON object of every figure.
"""

import argparse
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

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


# The server-side variables each run sets itself; none may come from the calling shell.
DATABASE_VARIABLES = ("DATABASE_URL", "DB_POOL", "DB_POOL_MIN_SIZE", "DB_POOL_MAX_SIZE", "DB_POOL_TIMEOUT",
                      "DB_CONN_MAX_AGE")


def throwaway_postgres(admin_url):
    """Create an empty database next to admin_url's: its URL, a line naming it, and a function that drops it."""
    import psycopg

    name = f"helpdesk_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        version = admin.info.server_version

    def drop():
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    return url, f"PostgreSQL {version // 10000}.{version % 10000} (throwaway database {name})", drop


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each page and layout; the median is shown")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres",
                        help="an existing database to connect to while creating and dropping the throwaway one")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object, last")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (apt-get install wrk); `make bench` installs it.")

    fake = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    var = Path(tempfile.mkdtemp(prefix="helpdesk-bench-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "HELPDESK_VAR_DIR": str(var),
           "COBROWSE_API": f"http://127.0.0.1:{fake.server_port}", "PYTHONPATH": str(ROOT)}
    env.pop("DEBUG", None)
    for name in DATABASE_VARIABLES:
        env.pop(name, None)
    drop = None
    if args.database == "postgres":
        env["DATABASE_URL"], database, drop = throwaway_postgres(args.postgres_url)
    else:
        database = "SQLite"
    try:
        run(args, env, var, database)
    finally:
        if drop:
            drop()
        shutil.rmtree(var, ignore_errors=True)
        fake.shutdown()


def run(args, env, var, database):
    keys_into(var / "cobrowse")
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    started = time.monotonic()
    seeded = subprocess.run(
        [PY, "-c", "import django; django.setup(); from bench.seed import seed, session_cookie;"
                   f"a, t = seed({args.tickets}); print(t.pk); print(session_cookie(a))"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout.split()
    ticket_id, cookie = seeded[-2], seeded[-1]
    print(f"{database}: seeded {args.tickets} tickets in {time.monotonic() - started:.1f} s ({var})")

    paths = {"bare view": "/bench/bare/", "signed-in only": "/bench/signed-in/", "empty layout": "/bench/layout/",
             "ticket list": "/tickets/", "ticket detail": f"/tickets/{ticket_id}/"}
    # The runs that only compare connection handling measure fewer pages.
    compared = {name: paths[name] for name in ("bare view", "signed-in only", "ticket detail")}
    with_layout = {name: paths[name] for name in ("bare view", "signed-in only", "empty layout", "ticket detail")}

    def daphne(port, application="helpdesk.asgi:application"):
        return [str(Path(PY).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port), application]

    def daphne_with_djangos_handler(port):
        return daphne(port, "bench.django_asgi:application")

    def gunicorn(port):
        return [str(Path(PY).parent / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                "--log-level", "warning", "helpdesk.wsgi:application"]

    g = f"gunicorn x{args.workers}"
    per_request = {"DB_CONN_MAX_AGE": "0"}
    no_pool = {"DB_POOL": "false"}
    if args.database == "postgres":
        # (label, server, environment, pages)
        layouts = [
            ("daphne x1 pool", daphne, {}, with_layout),
            ("daphne x1 no pool", daphne, no_pool, compared),  # a kept connection per thread
            (f"{g} pool", gunicorn, {}, with_layout),
            (f"{g} no pool", gunicorn, no_pool, compared),  # a persistent connection per worker
            (f"{g} no pool, conn/request", gunicorn, {**no_pool, **per_request}, compared),
        ]
        comparisons = ("pool / no pool", [
            ("daphne x1 pool", "daphne x1 no pool"), (f"{g} pool", f"{g} no pool"),
            (f"{g} pool", f"{g} no pool, conn/request"),
        ])
    else:
        layouts = [
            ("daphne x1", daphne, {}, paths),
            ("daphne x1 Django's handler", daphne_with_djangos_handler, {}, compared),
            (g, gunicorn, {}, paths),
            (f"{g} conn/request", gunicorn, per_request, compared),
        ]
        comparisons = ("persistent connections (DB_CONN_MAX_AGE 60) / a new one per request (0), and the "
                       "helpdesk's ASGI handler / Django's",
                       [(g, f"{g} conn/request"), ("daphne x1", "daphne x1 Django's handler")])

    # Every server runs for the whole measurement and the layouts take turns on each page, so a
    # shared machine's slow minute does not fall on one side of a comparison only.
    servers, samples = {}, {}
    try:
        for layout, command, extra, _ in layouts:
            port = free_port()
            log = open(var / f"server-{port}.log", "w")
            servers[layout] = port, subprocess.Popen(command(port), cwd=ROOT, env={**env, **extra}, stdout=log,
                                                     stderr=subprocess.STDOUT)
        for port, _ in servers.values():
            wait_http(f"http://127.0.0.1:{port}/bench/bare/")
        for name, path in paths.items():
            for turn in range(args.rounds):
                for layout, _, _, pages in layouts:
                    if name not in pages:
                        continue
                    url = f"http://127.0.0.1:{servers[layout][0]}{path}"
                    if turn == 0:
                        wrk(url, cookie, 2, args.connections)  # warm up
                    samples.setdefault((layout, name), []).append(wrk(url, cookie, args.duration, args.connections))
    except Exception:
        for port, _ in servers.values():
            print((var / f"server-{port}.log").read_text()[-3000:])
        raise
    finally:
        for _, server in servers.values():
            stop(server)
    # The round with the median req/s, in the layouts' order.
    results = {(layout, name): sorted(samples[layout, name], key=lambda r: r["rps"])[args.rounds // 2]
               for layout, _, _, pages in layouts for name in pages}

    width = max(len(layout) for layout, *_ in layouts)
    print(f"\n{'layout':<{width}} {'page':<14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p50 / bare':>11} {'non-2xx':>8}")
    for (layout, name), r in results.items():
        bare = results[layout, "bare view"]["p50"]
        print(f"{layout:<{width}} {name:<14} {r['rps']:>8.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} "
              f"{r['p50'] / bare:>10.2f}x {r['errors']:>8}")

    title, pairs = comparisons
    print(f"\n{title}, req/s:")
    for a, b in pairs:
        for name in compared:
            ra, rb = results[a, name]["rps"], results[b, name]["rps"]
            print(f"{a:<{width}} / {b:<{width}} {name:<14} {ra:>6.0f} / {rb:>6.0f} = {ra / rb:>5.2f}x")

    over_layout = {layout: round(results[layout, "ticket detail"]["p50"] / results[layout, "empty layout"]["p50"], 2)
                   for layout, _, _, pages in layouts if "empty layout" in pages}
    print("\nticket page p50 / signed-in empty layout p50: "
          + ", ".join(f"{layout} {ratio:.2f}x" for layout, ratio in over_layout.items()))
    print(f"\nREST calls to the co-browse service during the runs: {CountingHandler.count}")
    if args.json:
        figures = {"database": database, "tickets": args.tickets, "connections": args.connections,
                   "rest_calls": CountingHandler.count,
                   "detail_over_layout_p50": max(over_layout.values()),
                   "detail_over_layout_p50_by_layout": over_layout,
                   **({"asgi_handler_over_djangos_rps": {
                       name: round(results["daphne x1", name]["rps"] / results["daphne x1 Django's handler", name]["rps"], 2)
                       for name in compared}} if ("daphne x1 Django's handler", "bare view") in results else {}),
                   "results": {layout: {name: results[layout, name] for name in pages}
                               for layout, _, _, pages in layouts}}
        print(json.dumps(figures))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# `make bench`: benchmarks that print figures (not pass/fail).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null 2>&1 || { [ "$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
echo "== ticket pages under load =="
.venv/bin/python -m bench.pages
echo "== co-browse: close to ended, outage recovery, supervisor count =="
.venv/bin/python -m bench.cobrowse
echo "== chat fan-out to 50 agent websockets =="
.venv/bin/python -m bench.fanout
echo "== idle websockets held by one daphne process =="
.venv/bin/python -m bench.connections
echo "== co-browse insights over 100,000 events =="
.venv/bin/python -m bench.insights

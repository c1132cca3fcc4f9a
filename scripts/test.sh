#!/usr/bin/env bash
# The test suite, twice: on SQLite with the in-memory channel layer, then on PostgreSQL
# with the Redis channel layer. Locally a missing PostgreSQL or Redis skips the second run
# with the reason; in CI (CI=true) it is an error.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PG_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
REDIS="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"

run_pytest() {
  local label=$1; shift
  echo "=== tests on $label ==="
  "$PY" -m pytest "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then echo "no tests collected on $label" >&2; return 1; fi
  return $rc
}

service_up() {
  "$PY" - "$1" "$2" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)
PY
}

status=0
# The pages of the suite and the deployment check need the collected static files (STATIC_ROOT).
DEBUG=true "$PY" manage.py collectstatic --no-input -v0 || { echo "collectstatic failed" >&2; exit 1; }

echo "=== deployment check with deploy/production.env.example ==="
# Exactly the example file: nothing from this shell may fill a gap in it (STATIC_ROOT, if set,
# only says where the files just collected are).
env -i PATH="$PATH" ${STATIC_ROOT:+STATIC_ROOT="$STATIC_ROOT"} ENV_FILE=deploy/production.env.example \
  "$PY" manage.py check --deploy --fail-level WARNING || status=1

(unset DATABASE_URL REDIS_URL REDIS_CACHE_URL; run_pytest "SQLite + in-memory channel layer" "$@") || status=1

missing=""
service_up 127.0.0.1 5432 || missing="PostgreSQL on 127.0.0.1:5432"
service_up 127.0.0.1 6379 || missing="${missing:+$missing and }Redis on 127.0.0.1:6379"
if [ -n "$missing" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "CI needs $missing for the second run, and it is not reachable." >&2
    status=1
  else
    echo "SKIPPED the PostgreSQL + Redis run: $missing not reachable."
  fi
else
  DATABASE_URL="$PG_URL" REDIS_URL="$REDIS" REDIS_CACHE_URL="${TEST_REDIS_CACHE_URL:-redis://127.0.0.1:6379/1}" run_pytest "PostgreSQL + Redis channel layer" "$@" || status=1
fi
exit $status

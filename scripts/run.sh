#!/usr/bin/env bash
# `make run`: a Redis of its own, the Cobrowse sandbox, the task workers, the repair jobs and the
# helpdesk, with the demo seeded. Ctrl+C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
SANDBOX_PORT="${SANDBOX_PORT:-8001}"
export DEBUG="${DEBUG:-true}"
# Links in webhooks and custom data, and the incoming webhook URLs on the settings page.
export HELPDESK_PUBLIC_URL="${HELPDESK_PUBLIC_URL:-http://$HOST:$PORT}"
# The demo customer chat page (it signs any identity) is for this development setup only.
export CHAT_DEMO_PAGE="${CHAT_DEMO_PAGE:-true}"
# The sandbox runs on loopback, which the outbound address policy otherwise refuses.
export OUTBOUND_ALLOWED_NETWORKS="${OUTBOUND_ALLOWED_NETWORKS:-127.0.0.0/8,::1}"
# The demo chat page is served from this instance's own origin.
export CHAT_DEMO_ORIGINS="${CHAT_DEMO_ORIGINS:-http://$HOST:$PORT,http://localhost:$PORT}"
# Local state (SQLite, demo keys, the Redis socket): var/, or HELPDESK_VAR_DIR for another instance.
VAR="${HELPDESK_VAR_DIR:-$PWD/var}"
mkdir -p "$VAR"
# Prometheus metrics of every process started here, summed at /metrics. Emptied before any starts:
# files left by an earlier run would count its dead processes. Only the metric files (*.db) go, in
# case the variable names a directory that holds anything else.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$VAR/metrics-$PORT}"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db

pids=()
cleanup() { trap - EXIT INT TERM; for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null; }
trap cleanup EXIT INT TERM

if [ -z "${REDIS_URL:-}" ]; then
  # Every process started here (web, workers, repair jobs) shares one channel layer and cache:
  # a Redis on a unix socket under var/, one per instance (PORT), stopped with the rest.
  bash scripts/ensure-redis.sh
  mkdir -p "$VAR/redis"
  sock="$VAR/redis/redis-$PORT.sock"
  rm -f "$sock"
  redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --save "" --appendonly no \
    --dir "$VAR/redis" --logfile "$VAR/redis/redis-$PORT.log" &
  pids+=($!)
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || { echo "Redis did not start: see $VAR/redis/redis-$PORT.log" >&2; exit 1; }
  export REDIS_URL="unix://$sock?db=0"
  export REDIS_CACHE_URL="${REDIS_CACHE_URL:-unix://$sock?db=1}"
fi

if [ -z "${COBROWSE_API:-}" ]; then
  # The local stand-in of the Cobrowse service; it also writes the demo keys the helpdesk reads.
  SANDBOX_PORT="$SANDBOX_PORT" bash scripts/run-sandbox.sh &
  pids+=($!)
  export COBROWSE_API="http://127.0.0.1:$SANDBOX_PORT"
  "$PY" scripts/wait_for_http.py "$COBROWSE_API/api/1/regions/closest" "$VAR/cobrowse/license_key.txt"
fi

# A running server serves static files only from STATIC_ROOT: collect the current ones.
"$PY" manage.py collectstatic --no-input -v0
"$PY" manage.py migrate --no-input -v0
"$PY" manage.py seed_demo
"$PY" manage.py cobrowse_seed_demo
# Two task workers: co-browse ends and tags on their own, so a slow webhook receiver never delays them.
"$PY" manage.py task_worker --queue-name cobrowse --no-reload -v0 &
pids+=($!)
"$PY" manage.py task_worker --queue-name default --no-reload -v0 &
pids+=($!)
# Repairs co-browse links once a minute (ends left behind by a crash or an outage).
"$PY" manage.py cobrowse_reconcile --every 60 -v0 &
pids+=($!)
# Re-enqueues outgoing webhook deliveries that a stopped worker left pending.
"$PY" manage.py webhooks_requeue --every 60 -v0 &
pids+=($!)
# Marks gone the chat customers whose connection died with a process (no heartbeat for 90 s).
"$PY" manage.py chat_presence --every 30 -v0 &
pids+=($!)
# Deletes finished task results, expired sessions and "Viewing now" rows of crashed processes.
"$PY" manage.py prune --every 3600 -v0 &
pids+=($!)

cat <<MSG

  Helpdesk:         http://$HOST:$PORT/   (sign in with a demo login above)
  Cobrowse service: $COBROWSE_API
  Demo customer:    $COBROWSE_API/demo/shop?user_id=customer-001&name=Maria%20Garcia   (co-browse)
  Chat demo:        http://$HOST:$PORT/demo/chat/?user_id=customer-001&name=Maria   (live chat widget)
  Health, metrics:  http://$HOST:$PORT/readyz   http://$HOST:$PORT/metrics

MSG
.venv/bin/daphne -b "$HOST" -p "$PORT" helpdesk.asgi:application &
pids+=($!)
wait -n "${pids[@]}"

#!/usr/bin/env bash
# `make run`: the Cobrowse sandbox, the task worker and the helpdesk, with the demo seeded.
# Ctrl+C stops all three.
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
mkdir -p var

pids=()
cleanup() { trap - EXIT INT TERM; for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null; }
trap cleanup EXIT INT TERM

if [ -z "${COBROWSE_API:-}" ]; then
  # The local stand-in of the Cobrowse service; it also writes the demo keys the helpdesk reads.
  SANDBOX_PORT="$SANDBOX_PORT" bash scripts/run-sandbox.sh &
  pids+=($!)
  export COBROWSE_API="http://127.0.0.1:$SANDBOX_PORT"
  "$PY" scripts/wait_for_http.py "$COBROWSE_API/api/1/regions/closest" var/cobrowse/license_key.txt
fi

"$PY" manage.py migrate --no-input -v0
"$PY" manage.py seed_demo
"$PY" manage.py db_worker --queue-name '*' --no-reload -v0 &
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

cat <<MSG

  Helpdesk:         http://$HOST:$PORT/   (sign in with a demo login above)
  Cobrowse service: $COBROWSE_API
  Demo customer:    $COBROWSE_API/demo/shop?user_id=customer-001&name=Maria%20Garcia   (co-browse)
  Chat demo:        http://$HOST:$PORT/demo/chat/?user_id=customer-001&name=Maria   (live chat widget)

MSG
.venv/bin/daphne -b "$HOST" -p "$PORT" helpdesk.asgi:application &
pids+=($!)
wait -n "${pids[@]}"

#!/usr/bin/env bash
# `make prod`: the production layout on this machine (README "Production layout"): nginx in front of
# gunicorn (pages) and two daphne processes (/ws/), the task workers and the repair jobs, all from
# deploy/Procfile under honcho, as the current user. Ctrl+C or SIGTERM stops them all.
# `bash scripts/prod.sh prepare` does every step but the start (for `honcho export`, see README).
set -euo pipefail
CALLER_DIR="$PWD"
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY=.venv/bin/python
HELPERS=scripts/prod_helpers.py
MODE="${1:-start}"
case "$MODE" in start|prepare) ;; *) echo "usage: bash scripts/prod.sh [prepare]" >&2; exit 2 ;; esac
# Debian installs nginx in /usr/sbin, which is not on every user's PATH.
export PATH="$PATH:/usr/sbin"

fail() { echo "scripts/prod.sh: $*" >&2; exit 1; }
# A path given by the caller, relative to where they are.
absolute() { case "$1" in /*) echo "$1" ;; *) echo "$CALLER_DIR/$1" ;; esac; }
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "${ENV_FILE:-}" ]; then
  export ENV_FILE="$(absolute "$ENV_FILE")"
  [ -f "$ENV_FILE" ] && [ -r "$ENV_FILE" ] || fail "ENV_FILE=$ENV_FILE is not a readable file."
  # The file's values decide what this script does too; the environment wins, as in the settings.
  exports="$("$PY" "$HELPERS" load-env "$ENV_FILE")"
  eval "$exports"
fi

export PROD_VAR="$(absolute "${PROD_VAR:-$ROOT/var/prod}")"
export PROD_PORT="${PROD_PORT:-8080}" GUNICORN_PORT="${GUNICORN_PORT:-8090}"
export WS1_PORT="${WS1_PORT:-8091}" WS2_PORT="${WS2_PORT:-8092}" WEB_CONCURRENCY="${WEB_CONCURRENCY:-4}"
SANDBOX_PORT="${SANDBOX_PORT:-8089}"
mkdir -p "$PROD_VAR/nginx"
layout_vars=(PROD_VAR PROD_PORT GUNICORN_PORT WS1_PORT WS2_PORT WEB_CONCURRENCY NGINX_BIN ENV_FILE STATIC_ROOT
             PROMETHEUS_MULTIPROC_DIR AXES_PROXY_COUNT SECURE_PROXY_SSL_HEADER PYTHONUNBUFFERED)

if [ -n "${TLS_CERT:-}${TLS_KEY:-}" ]; then
  [ -n "${TLS_CERT:-}" ] && [ -n "${TLS_KEY:-}" ] || fail "TLS needs both TLS_CERT and TLS_KEY."
  export TLS_CERT="$(absolute "$TLS_CERT")" TLS_KEY="$(absolute "$TLS_KEY")"
  [ -r "$TLS_CERT" ] && [ -r "$TLS_KEY" ] || fail "TLS_CERT and TLS_KEY must be readable files."
  SCHEME=https
else
  SCHEME=http
fi

# Neither ENV_FILE nor DATABASE_URL: an environment for this machine, with local PostgreSQL and
# Redis (databases 2 and 3, apart from the test suite's 0 and 1) and the sandbox as Cobrowse.
LOCAL=false
SANDBOX=false
if [ -z "${ENV_FILE:-}" ] && [ -z "${DATABASE_URL:-}" ]; then
  LOCAL=true
  export DEBUG=false
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/helpdesk_prod"
  if [ -z "${REDIS_URL:-}" ]; then
    export REDIS_URL="redis://127.0.0.1:6379/2" REDIS_CACHE_URL="${REDIS_CACHE_URL:-redis://127.0.0.1:6379/3}"
  fi
  "$PY" "$HELPERS" secrets "$PROD_VAR/secrets.env"
  exports="$("$PY" "$HELPERS" load-env "$PROD_VAR/secrets.env")"
  eval "$exports"
  export HELPDESK_PUBLIC_URL="${HELPDESK_PUBLIC_URL:-$SCHEME://127.0.0.1:$PROD_PORT}"
  export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
  layout_vars+=(DEBUG DATABASE_URL REDIS_URL REDIS_CACHE_URL SECRET_KEY FIELD_ENCRYPTION_KEYS HELPDESK_PUBLIC_URL
                ALLOWED_HOSTS COBROWSE_API)
  if [ -z "${COBROWSE_API:-}" ]; then
    [ "$MODE" = start ] || fail "prepare needs COBROWSE_API: the sandbox is started only by scripts/prod.sh itself."
    SANDBOX=true
    export COBROWSE_API="http://127.0.0.1:$SANDBOX_PORT"
    # Loopback only, for the sandbox; the demo teams have no JWT policy; the demo chat page signs any
    # identity, which is for a machine of one's own only.
    export OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8,::1" COBROWSE_DENY_UNRESTRICTED_TEAMS=false
    export CHAT_DEMO_PAGE=true CHAT_DEMO_ORIGINS="$HELPDESK_PUBLIC_URL"
    layout_vars+=(OUTBOUND_ALLOWED_NETWORKS COBROWSE_DENY_UNRESTRICTED_TEAMS CHAT_DEMO_PAGE CHAT_DEMO_ORIGINS)
  fi
  "$PY" "$HELPERS" reachable "$DATABASE_URL" "$REDIS_URL" \
    || fail "the local layout needs PostgreSQL (trust auth for postgres) and Redis on 127.0.0.1, or ENV_FILE."
  echo "Database helpdesk_prod: $("$PY" "$HELPERS" create-database "$DATABASE_URL")"
fi

if [ "$SCHEME" = http ]; then
  # Plain HTTP end to end: cookies marked Secure, HSTS and the https redirect would lock everyone out.
  export SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false SECURE_HSTS_SECONDS=0
  layout_vars+=(SECURE_SSL_REDIRECT SESSION_COOKIE_SECURE CSRF_COOKIE_SECURE SECURE_HSTS_SECONDS)
  $LOCAL || echo "WARNING: no TLS_CERT and TLS_KEY: nginx serves plain HTTP, with secure cookies, HSTS and the https redirect off." >&2
fi
# Log lines reach honcho (and the journal) as they are written, not when a buffer fills.
export PYTHONUNBUFFERED=1
# One proxy in front, which always sets X-Forwarded-Proto and adds the client to X-Forwarded-For.
export AXES_PROXY_COUNT="${AXES_PROXY_COUNT:-1}"
export SECURE_PROXY_SSL_HEADER="${SECURE_PROXY_SSL_HEADER:-HTTP_X_FORWARDED_PROTO,https}"
# Shared by every process (prometheus multiprocess mode); it must exist before any of them starts.
export PROMETHEUS_MULTIPROC_DIR="$(absolute "${PROMETHEUS_MULTIPROC_DIR:-$PROD_VAR/metrics}")"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

bash scripts/ensure-nginx.sh
NGINX_BIN="$(command -v nginx)" || fail "nginx is not on PATH."
export NGINX_BIN

sandbox_pid=
stop_sandbox() { [ -z "$sandbox_pid" ] || kill "$sandbox_pid" 2>/dev/null || true; }
trap stop_sandbox EXIT
if $SANDBOX; then
  # Started first: it migrates and writes the demo keys while the helpdesk gets ready.
  SANDBOX_PORT="$SANDBOX_PORT" bash scripts/run-sandbox.sh >"$PROD_VAR/sandbox.log" 2>&1 &
  sandbox_pid=$!
fi

"$PY" manage.py collectstatic --no-input -v0
# With TLS every deployment warning counts; plain HTTP warns about its cookies and redirect, and a
# local layout about its HSTS choices: those are shown, only errors stop the start.
if [ "$SCHEME" = https ] && ! $LOCAL; then level=WARNING; else level=ERROR; fi
"$PY" manage.py check --deploy --fail-level "$level"
"$PY" manage.py migrate --no-input -v0

facts="$("$PY" manage.py shell --no-imports -v0 -c 'from django.conf import settings; from django.contrib.auth import get_user_model
print(settings.STATIC_ROOT); print(get_user_model().objects.count())')"
export STATIC_ROOT="$(sed -n 1p <<<"$facts")"
users="$(sed -n 2p <<<"$facts")"
seeded=false
if [ "${PROD_SEED_DEMO:-}" = true ] || { $LOCAL && [ "$users" = 0 ] && [ "${PROD_SEED_DEMO:-}" != false ]; }; then
  "$PY" manage.py seed_demo --force
  "$PY" manage.py cobrowse_seed_demo --force
  seeded=true
fi

"$PY" "$HELPERS" nginx-conf deploy/nginx.conf.template "$PROD_VAR/nginx/nginx.conf"
"$NGINX_BIN" -t -q -e stderr -p "$PROD_VAR/nginx" -c "$PROD_VAR/nginx/nginx.conf"
"$PY" "$HELPERS" write-env "$PROD_VAR/layout.env" "${layout_vars[@]}"

if [ "$MODE" = prepare ]; then
  cat <<MSG
Prepared: $PROD_VAR/nginx/nginx.conf and $PROD_VAR/layout.env (the values deploy/Procfile needs).
Run it:        .venv/bin/honcho start -f deploy/Procfile -d . -e $PROD_VAR/layout.env
or as systemd units: .venv/bin/honcho export -f deploy/Procfile -d . -e $PROD_VAR/layout.env -a helpdesk -u $(id -un) systemd /etc/systemd/system
MSG
  exit 0
fi

# Metrics files of processes that are gone (the steps above, an earlier start) would be counted again.
find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -type f -name '*.db' -delete
if $SANDBOX; then
  "$PY" scripts/wait_for_http.py "$COBROWSE_API/api/1/regions/closest" var/cobrowse/license_key.txt \
    || fail "the sandbox did not start: see $PROD_VAR/sandbox.log"
fi

cobrowse_note=
if $SANDBOX; then
  cobrowse_note="   (the sandbox; its log: $PROD_VAR/sandbox.log)
  Demo customer: $COBROWSE_API/demo/shop?user_id=customer-001&name=Maria%20Garcia   (co-browse)
  Chat demo:     $HELPDESK_PUBLIC_URL/demo/chat/?user_id=customer-001&name=Maria   (live chat widget)"
fi
if $seeded; then sign_in="with a demo login above (password demo1234)"
elif [ "$users" = 0 ]; then sign_in="once there is an account: PROD_SEED_DEMO=true creates the demo logins"
elif $LOCAL; then sign_in="with a demo login: alice, bob, sam or ada, password demo1234"
else sign_in="with an agent account (PROD_SEED_DEMO=true creates the demo logins)"; fi
cat <<MSG

  Helpdesk:    $SCHEME://127.0.0.1:$PROD_PORT/   (nginx; sign in $sign_in)
  Processes:   gunicorn 127.0.0.1:$GUNICORN_PORT, daphne 127.0.0.1:$WS1_PORT and :$WS2_PORT, task workers, repair jobs
  Readiness:   $SCHEME://127.0.0.1:$PROD_PORT/readyz
  Cobrowse:    $COBROWSE_API$cobrowse_note

MSG

.venv/bin/honcho start -f deploy/Procfile -d . -e "$PROD_VAR/layout.env" &
honcho_pid=$!
trap 'kill -TERM "$honcho_pid" 2>/dev/null || true' INT TERM
status=0
wait "$honcho_pid" || status=$?
# A trapped signal ends the first wait at once; honcho is still stopping its processes.
while kill -0 "$honcho_pid" 2>/dev/null; do wait "$honcho_pid" || status=$?; done
exit "$status"

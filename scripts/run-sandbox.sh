#!/usr/bin/env bash
# The local Cobrowse sandbox on 127.0.0.1:$SANDBOX_PORT (default 8001), with its demo account.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${SANDBOX_PORT:-8001}"
export SANDBOX_PUBLIC_URL="${SANDBOX_PUBLIC_URL:-http://127.0.0.1:$PORT}"
mkdir -p var
.venv/bin/python -m sandbox.manage migrate --no-input -v0
.venv/bin/python -m sandbox.manage sandbox_bootstrap
DJANGO_SETTINGS_MODULE=sandbox.settings exec .venv/bin/daphne -b 127.0.0.1 -p "$PORT" sandbox.asgi:application

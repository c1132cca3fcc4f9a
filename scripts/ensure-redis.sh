#!/usr/bin/env bash
# `make run` keeps its channel layer and cache in a Redis of its own (a unix socket under var/):
# install Debian's redis-server when it is missing, the way the tests install chromium.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
bash "$(dirname "$0")/apt-install.sh" "for the live updates between processes" redis-server || {
  echo "redis-server is not installed and apt-get is not available: set REDIS_URL to a Redis server." >&2
  exit 1
}

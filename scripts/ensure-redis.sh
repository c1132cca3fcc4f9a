#!/usr/bin/env bash
# `make run` keeps its channel layer and cache in a Redis of its own (a unix socket under var/):
# install Debian's redis-server when it is missing, the way the tests install chromium.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's redis-server for the live updates between processes..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
else
  echo "redis-server is not installed and apt-get is not available: set REDIS_URL to a Redis server." >&2
  exit 1
fi

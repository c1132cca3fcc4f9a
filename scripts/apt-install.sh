#!/usr/bin/env bash
# Installs Debian packages with apt-get, as root or through sudo; exits 1 when neither works.
# usage: bash scripts/apt-install.sh "why, for the message" package...
set -euo pipefail
why=$1; shift
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  sudo=(sudo)
else
  exit 1
fi
echo "Installing Debian's $* $why..."
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null

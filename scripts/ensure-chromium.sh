#!/usr/bin/env bash
# Browser tests drive Debian's chromium (Playwright never downloads a browser here).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
bash "$(dirname "$0")/apt-install.sh" "for the browser tests" chromium \
  || echo "chromium is not installed and apt-get is not available: browser tests will be skipped." >&2

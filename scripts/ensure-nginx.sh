#!/usr/bin/env bash
# `make prod` puts Debian's nginx in front of gunicorn and daphne: install it when it is missing,
# the way the tests install chromium. Only the binary is used; the layout runs its own nginx
# (deploy/nginx.conf.template) as the current user, whatever the package's own service does.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then exit 0; fi
bash "$(dirname "$0")/apt-install.sh" "for the production layout" nginx || {
  echo "nginx is not installed and apt-get is not available: install nginx to run the production layout." >&2
  exit 1
}

"""WSGI entry point: plain HTTP pages under a pre-forking server (websockets stay on daphne)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
# Read by the settings: a WSGI worker's threads live as long as the worker, so each may keep its
# database connection between requests.
os.environ.setdefault("HELPDESK_SERVER", "wsgi")
application = get_wsgi_application()

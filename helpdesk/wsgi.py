"""WSGI entry point: plain HTTP pages under a pre-forking server (websockets stay on daphne)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
application = get_wsgi_application()

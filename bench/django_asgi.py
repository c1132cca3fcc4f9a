"""Django's own ASGI handler serving the helpdesk's pages: bench.pages' baseline for
helpdesk/asgi_handler.py under daphne."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
application = get_asgi_application()

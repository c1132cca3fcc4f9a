"""Static files are served from STATIC_ROOT only, as `manage.py collectstatic` wrote them at build
time: names with a content hash, gzip copies, and the manifest staticfiles.json that maps each
source name to its hashed name. Without the manifest every {% static %} fails, i.e. every page is
a 500, so a server refuses to start without it (and `manage.py check` warns, helpdesk/checks.py)."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ImproperlyConfigured
from whitenoise.middleware import WhiteNoiseMiddleware


def missing_manifest():
    """Why the collected static files are unusable, or None when the manifest is in place."""
    manifest_name = getattr(staticfiles_storage, "manifest_name", None)
    if manifest_name is None:  # a storage without a manifest
        return None
    manifest = Path(settings.STATIC_ROOT) / manifest_name
    if manifest.is_file():
        return None
    return (
        f"Static files are not collected: {manifest} is missing. Run `python manage.py collectstatic "
        "--no-input` before starting the helpdesk (make install, scripts/run.sh and scripts/test.sh do)."
    )


class CollectedStaticMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, serving STATIC_ROOT, that stops the server start (daphne, gunicorn, runserver,
    the test client's first request) when collectstatic has not run. Servers run no system checks."""

    def __init__(self, *args, **kwargs):
        if problem := missing_manifest():
            raise ImproperlyConfigured(problem)
        super().__init__(*args, **kwargs)

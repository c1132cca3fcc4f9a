from django.core import checks

from .static_files import missing_manifest


# A warning, not an error: migrate, seed_demo and the workers run every system check whatever its
# tag, and need no static files. `check --deploy --fail-level WARNING` fails on it; a server does
# not start without the manifest (helpdesk/static_files.py). Not tagged "staticfiles", which is
# what collectstatic itself runs.
@checks.register("helpdesk_static")
def static_files_collected(app_configs, **kwargs):
    if problem := missing_manifest():
        return [checks.Warning(problem, id="helpdesk.W001")]
    return []

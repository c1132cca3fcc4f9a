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


@checks.register()
def hooks_importable(app_configs, **kwargs):
    """Every close and event hook (helpdesk/closing.py) can be imported: a typo fails at start, not at
    the first close."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    errors = []
    for setting in ("CLOSE_HOOKS", "EVENT_HOOKS"):
        for name in getattr(settings, setting):
            try:
                import_string(name)
            except ImportError as exc:
                errors.append(checks.Error(f"{setting}: {name} cannot be imported ({exc}).", id="helpdesk.E001"))
    return errors

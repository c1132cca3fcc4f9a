"""Benchmark settings: the helpdesk's own, plus a bare baseline view."""

from helpdesk.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

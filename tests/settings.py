"""Test settings: the production settings module, with DEBUG off as in production, and the values a
deployment must set given test-only values (tests/environment.py)."""

from tests import environment

environment.apply()

from helpdesk.settings import *  # noqa: E402,F401,F403

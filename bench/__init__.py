"""Benchmarks run the helpdesk as a throwaway deployment, configured with the tests' values."""

from tests import environment

environment.apply()

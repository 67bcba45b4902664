"""pytest picks up the shared fixtures from :mod:`physics` (helpers live there, importable by name, so they do
not clash with notebooks/conftest.py)."""
from physics import *  # noqa: F401,F403

"""The customer app's API (contract §3.3), under /api."""
from .routes import bp  # noqa: F401

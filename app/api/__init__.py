"""The customer app's API (SPEC §3.3), under /api."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api")

from . import routes  # noqa: E402,F401

"""OneTablet's webhooks (SPEC §3.1), under /onetablet."""
from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/onetablet")

from . import routes  # noqa: E402,F401  (registers the views on bp)

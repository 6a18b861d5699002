"""OneTablet's webhooks (SPEC §3.1), under /onetablet."""
from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/onetablet")

# What follows /orders/<order_id> in an order event's path (a confirmation has nothing). An
# order id must not end with one: a server decodes %2F before routing (app/api/schemas.py).
READY_PATH, CANCELLATION_PATH = "/events/order_ready_for_pickup", "/cancellation"

from . import routes  # noqa: E402,F401  (registers the views on bp)

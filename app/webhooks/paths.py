"""What follows /orders/<order_id> in an order event's path (a confirmation has nothing). An
order id must not end with one: a server decodes %2F before routing (app/api/schemas.py)."""
READY_PATH, CANCELLATION_PATH = "/events/order_ready_for_pickup", "/cancellation"

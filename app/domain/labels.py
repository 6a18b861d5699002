"""The words staff read for Passline's codes: states, courier statuses, time limits, audit
events, cancel reasons, who did it. The one place codes become labels; the JSON API and
the CSV keep the codes themselves (contract §3.3)."""
from __future__ import annotations

LABELS = {
    # Who carries it, as staff say it: the platform's couriers, or our own fleet.
    "type": {"pickup": "Pickup", "dx_delivery": "Platform delivery", "mx_fleet_delivery": "Our delivery"},
    "state": {"submitted": "Submitted", "confirmed": "Confirmed", "rejected": "Rejected", "ready": "Ready",
              "in_transit": "In transit", "completed": "Completed", "cancelled": "Cancelled"},
    "courier_status": {"dasher_confirmed": "Assigned", "arriving_at_store": "Arriving at store",
                       "arrived_at_store": "At store", "dasher_out_for_delivery": "Out for delivery",
                       "dropoff": "Dropped off"},
    "limit": {"confirmation": "Confirmation", "preparation": "Preparation", "courier_pickup": "Courier pickup",
              "customer_pickup": "Customer pickup", "delivery": "Delivery"},
    "cancel_reason": {"ITEM_OUT_OF_STOCK": "Item out of stock", "STORE_CLOSED": "Store closed",
                      "KITCHEN_BUSY": "Kitchen busy", "OTHER": "Other"},
    # Audit rows: an implied step's event is the state it implies (confirmed, ready, in_transit).
    "event": {"submitted": "Order received", "confirmed": "Confirmed by the restaurant",
              "rejected": "Rejected", "ready": "Ready for pickup", "in_transit": "In transit",
              "cancelled": "Cancelled", "courier_assigned": "Courier assigned",
              "courier_reassigned": "Courier reassigned", "courier_status": "Courier",
              "picked_up": "Picked up by the customer", "override": "Manager override",
              "acknowledged": "Seen by staff", "overdue": "Flagged overdue",
              "overdue_escalated": "Escalated overdue (2× the limit)", "call_failed": "Call failed",
              "call_retried": "Call retried by hand", "refund_processed": "Refund processed"},
    "call": {"create_order": "Send order", "delivery_status": "Courier status", "cancel": "Cancel",
             "notify": "Customer notification"},
    "actor": {"onetablet": "OneTablet", "scheduler": "Scheduler", "customer_app": "Customer app"},
    # An order's other numbers: the one the restaurant reads out on the phone, and OneTablet's.
    "reference": {"merchant_supplied_id": "Restaurant's order no.", "client_order_id": "OneTablet order no."},
}

STAFF_PREFIX = "staff:"
COURIER_PREFIX = "courier:"  # a courier's own tap on their phone (contract §3.5)


def label(kind: str, code) -> str:
    """The label of `code`, or the code itself when it has none (an old or unknown one)."""
    if code is None:
        return ""
    return LABELS[kind].get(code, str(code))


def actor(code: str | None) -> str:
    """Who did it: a staff member by username, a system by its name."""
    if code and code.startswith(STAFF_PREFIX):
        return code[len(STAFF_PREFIX):]
    if code and code.startswith(COURIER_PREFIX):
        return f"courier #{code[len(COURIER_PREFIX):]}, on their phone"
    return label("actor", code)

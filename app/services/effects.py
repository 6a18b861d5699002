"""What a change obliges Passline to do for others, queued in the same transaction:
tell OneTablet what staff did, notify the customer, open a refund."""
from __future__ import annotations

from urllib.parse import quote

from flask import current_app

from .. import outbox
from ..domain.lifecycle import CANCELLED, COMPLETED, CONFIRMED, IN_TRANSIT, READY, REJECTED, TERMINAL, Change
from ..extensions import db
from ..models import Courier, Refund

# Customer notifications (issue 3): the states the customer hears about.
NOTIFY_ON = {CONFIRMED: "order.confirmed", REJECTED: "order.rejected", READY: "order.ready",
             IN_TRANSIT: "order.picked_up", COMPLETED: "order.completed", CANCELLED: "order.cancelled"}
COURIER_EVENTS = {"courier_assigned", "courier_reassigned", "courier_status"}


def after_changes(order, changes: list[Change], *, actor: str) -> None:
    by_staff = actor.startswith("staff:")
    # A courier's own tap on their phone (contract §3.5) is news to OneTablet as much as a
    # status a dispatcher types in; what OneTablet itself or the scheduler did is not.
    by_people = by_staff or actor.startswith("courier:")
    for change in changes:
        if change.event == "submitted":
            _send_order(order)
        if by_staff and cancels_an_open_order(change):
            _tell_onetablet_cancel(order)
        if by_people and change.event in COURIER_EVENTS:
            _tell_onetablet_courier(order)
        if change.to_state != change.from_state and change.to_state in NOTIFY_ON and not change.implied:
            _notify_customer(order, NOTIFY_ON[change.to_state])
        if change.to_state in (REJECTED, CANCELLED) and change.from_state != change.to_state:
            _open_refund(order, change)


def cancels_an_open_order(change: Change) -> bool:
    """Staff ended an order the restaurant has, or will have, on its tablet: a cancel from
    the board, or a manager's override to cancelled (README: a staff cancellation), so
    OneTablet must be told. Not from a terminal state: a rejected order was declined or
    never taken, a completed or cancelled one is over there too (a staff cancel is refused
    in those states). Nothing is sent for an override *out of* cancelled either: OneTablet
    has no call that reopens an order, so the manager settles that with the restaurant."""
    return change.to_state == CANCELLED and change.from_state not in TERMINAL


def _send_order(order) -> None:
    """The platform's order goes to OneTablet whole, exactly as the customer app sent it."""
    outbox.enqueue(target="onetablet", kind="create_order", order_id=order.id, path="/orders",
                   payload=order.payload)


def _tell_onetablet_cancel(order) -> None:
    reason = order.cancel_reason or "OTHER"
    text = f"{reason}: {order.cancel_details}" if order.cancel_details else reason
    outbox.enqueue(
        target="onetablet", kind="cancel", order_id=order.id,
        path=f"/orders/{quote(order.id, safe='')}/cancel",
        payload={"store": {"merchant_supplied_id": order.store.merchant_supplied_id},
                 "client_order_id": order.client_order_id, "reason": text},
    )


def _tell_onetablet_courier(order) -> None:
    courier = db.session.get(Courier, order.courier_id) if order.courier_id else None
    outbox.enqueue(
        target="onetablet", kind="delivery_status", order_id=order.id,
        path=f"/orders/{quote(order.id, safe='')}/delivery-status",
        payload={"client_order_id": order.client_order_id, "dasher_status": order.courier_status,
                 "dasher": {"first_name": courier.first_name if courier else "",
                            "phone_number": courier.phone if courier else ""}},
    )


def _notify_customer(order, kind: str) -> None:
    if not current_app.config.get("CUSTOMER_WEBHOOK_URL"):
        return
    payload = {"type": kind, "order_id": order.id, "state": order.state}
    if kind == "order.confirmed" and order.prep_time:
        payload["ready_time"] = order.prep_time.isoformat()
    if kind == "order.rejected":
        payload["reason"] = order.failure_reason
    if kind == "order.cancelled":
        payload["reason"] = order.cancel_reason
        payload["details"] = order.cancel_details
    outbox.enqueue(target="customer", kind="notify", order_id=order.id, path="", payload=payload)


def _open_refund(order, change: Change) -> None:
    if db.session.query(Refund.id).filter_by(order_id=order.id).first():
        return
    reason = order.failure_reason if change.to_state == REJECTED else order.cancel_reason
    db.session.add(Refund(order_id=order.id, amount=order.total or 0, reason=reason or change.to_state))

"""Staff actions on one order: cancel, assign or reassign a courier, post courier status,
mark picked up, manager override. Each locks the order, goes through the lifecycle
(orders.apply: audit, OneTablet call, live push) and commits. The board's forms, bulk
actions and the demo's dispatcher all call these."""
from __future__ import annotations

from typing import Optional

from . import clock, orders
from .extensions import db
from .lifecycle import Change, Forbidden
from .models import Courier


class ActionError(Exception):
    """The action cannot be applied; nothing changed. `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


def _run(order_id: str, action, *, actor: str, event: str, payload: Optional[dict] = None):
    order = orders.get_for_update(order_id)
    if order is None:
        db.session.rollback()
        raise ActionError(f"no order {order_id!r}", 404)
    outcome = orders.apply(order, action, actor=actor, event=event, payload=payload)
    db.session.commit()  # a refusal is audited too
    if outcome.refused:
        raise ActionError(outcome.refused)
    return outcome


def cancel(order_id: str, *, reason: str, details: Optional[str], actor: str):
    return _run(order_id, lambda lc, o: lc.cancel(o, now=clock.now(), reason=reason, details=details, by=actor),
                actor=actor, event="cancelled", payload={"cancel_reason": reason, "cancel_details": details})


def assign_courier(order_id: str, *, courier_id: int, actor: str):
    courier = db.session.get(Courier, courier_id)
    if courier is None or not courier.is_active:
        raise ActionError("choose an active courier", 422)
    return _run(order_id, lambda lc, o: lc.assign_courier(o, now=clock.now(), courier_id=courier.id),
                actor=actor, event="courier_assigned", payload={"courier_id": courier.id, "courier": courier.name})


def courier_status(order_id: str, *, status: str, actor: str):
    return _run(order_id, lambda lc, o: lc.courier_status(o, now=clock.now(), status=status),
                actor=actor, event="courier_status", payload={"dasher_status": status})


def picked_up(order_id: str, *, actor: str):
    return _run(order_id, lambda lc, o: lc.picked_up(o, now=clock.now()), actor=actor, event="picked_up")


def override(order_id: str, *, to_state: str, reason: str, actor: str):
    return _run(order_id, lambda lc, o: lc.override(o, now=clock.now(), to_state=to_state, reason=reason, by=actor),
                actor=actor, event="override", payload={"to_state": to_state, "reason": reason})


def acknowledge(order_id: str, *, actor: str):
    """Someone has looked at the order: the board stops repeating its alarm. Audited and
    pushed like any change; a second acknowledgement of the same alarm changes nothing."""

    def look(_lc, order):
        if order.acknowledged_at is not None:
            return []
        order.acknowledged_at = clock.now()
        order.version = (order.version or 0) + 1
        return [Change("acknowledged", order.state, order.state)]

    return _run(order_id, look, actor=actor, event="acknowledged")


__all__ = ["ActionError", "Forbidden", "acknowledge", "assign_courier", "cancel", "courier_status", "override",
           "picked_up"]

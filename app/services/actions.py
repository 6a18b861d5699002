"""Staff actions on one order: cancel, assign or reassign a courier, post courier status,
mark picked up, manager override. Each locks the order, goes through the lifecycle
(orders.apply: audit, OneTablet call, live push) and commits. The board's forms, bulk
actions and the demo's dispatcher all call these."""
from __future__ import annotations

import logging
import uuid
from typing import Callable, Optional

from sqlalchemy import select

from . import orders
from .. import outbox
from ..extensions import db
from ..domain.labels import label
from ..domain.lifecycle import (Acknowledge, AssignCourier, Cancel, Command, Forbidden, Override, PickUp,
                                PostCourierStatus, RetryCall)
from ..models import Courier, OutboxMessage
from ..outbox import retry_policy

log = logging.getLogger(__name__)


class ActionError(Exception):
    """The action cannot be applied; nothing changed. `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


class Skipped(ActionError):
    """Left as it is on purpose (an order another courier holds, in a bulk assign); not audited."""


def _run(order_id: str, command: Command, *, actor: str, payload: Optional[dict] = None,
         skip: Optional[Callable[[object], Optional[str]]] = None):
    """Apply `command` to the locked order; `skip(order)`, asked under the lock, may leave
    the order as it is with a reason (Skipped), before the lifecycle sees the command."""
    order = orders.get_for_update(order_id)
    if order is None:
        db.session.rollback()
        raise ActionError(f"no order {order_id!r}", 404)
    if skip is not None and (reason := skip(order)):
        db.session.rollback()
        raise Skipped(reason)
    outcome = orders.apply(order, command, actor=actor, payload=payload)
    db.session.commit()  # a refusal is audited too
    if outcome.refused:
        raise ActionError(outcome.refused)
    return outcome


def cancel(order_id: str, *, reason: str, details: Optional[str], actor: str):
    return _run(order_id, Cancel(reason=reason, details=details, by=actor), actor=actor,
                payload={"cancel_reason": reason, "cancel_details": details})


def held_by_another(order, courier_id: int) -> Optional[str]:
    """Why an order is not taken from the courier who holds it (contract §3.4): "held by
    Jonah, At store"; None when it has no courier, or already this one."""
    if order.courier_id is None or order.courier_id == courier_id:
        return None
    holder = db.session.get(Courier, order.courier_id)
    name = holder.first_name if holder else f"courier {order.courier_id}"
    return f"held by {name}, {label('courier_status', order.courier_status) or 'no status yet'}"


def assign_courier(order_id: str, *, courier_id: int, actor: str, reassign: bool = True):
    """Assign `courier_id`; with reassign=False (a bulk assign that did not ask to reassign)
    an order another courier holds is skipped, never silently taken from them."""
    courier = db.session.get(Courier, courier_id)
    if courier is None or not courier.is_active:
        raise ActionError("choose an active courier", 422)
    skip = None if reassign else (lambda order: held_by_another(order, courier.id))
    return _run(order_id, AssignCourier(courier.id), actor=actor,
                payload={"courier_id": courier.id, "courier": courier.name}, skip=skip)


def courier_status(order_id: str, *, status: str, actor: str):
    return _run(order_id, PostCourierStatus(status), actor=actor, payload={"dasher_status": status})


def picked_up(order_id: str, *, actor: str):
    return _run(order_id, PickUp(), actor=actor)


def override(order_id: str, *, to_state: str, reason: str, actor: str):
    return _run(order_id, Override(to_state=to_state, reason=reason, by=actor), actor=actor,
                payload={"to_state": to_state, "reason": reason})


def acknowledge(order_id: str, *, actor: str):
    """Someone has looked at the order: the board stops repeating its alarm. Audited and
    pushed like any change."""
    return _run(order_id, Acknowledge(), actor=actor)


def retry_call(message_id: int, *, actor: str) -> OutboxMessage:
    """Staff send a failed call again: a fresh round of attempts, audited. Commits."""
    message = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()).scalar_one_or_none()
    if message is None or message.status != "failed":
        db.session.rollback()
        if message is None:
            raise ActionError(f"no call {message_id}", 404)
        raise ActionError(f"call {message_id} is {message.status}; only a failed call can be retried")
    previous = {"message_id": message.id, "kind": message.kind, "attempts": message.attempts,
                "last_error": message.last_error}
    new_key = None
    if retry_policy.refused(message.last_status_code):
        # A new key: under the old one OneTablet (or the customer app) answered with a
        # refusal, so it did nothing, and one that keeps answers per key would only repeat
        # that refusal. Had any earlier try been done, its success would have been replayed
        # instead. After 5xx, 429 or no answer the key stays: that call may have been done.
        new_key = str(uuid.uuid4())
        previous["idempotency_key"] = [message.idempotency_key, new_key]  # [old, new], as changes are kept
    order = orders.get_for_update(message.order_id) if message.order_id else None
    if order is not None:
        # The lifecycle says whether this call may go again (an order is re-sent only while
        # submitted); a refusal changes nothing, not even the audit trail.
        outcome = orders.apply(order, RetryCall(kind=message.kind, detail=previous), actor=actor)
        if outcome.refused:
            db.session.rollback()
            raise ActionError(outcome.refused)
    if new_key:
        log.info("outbox message %s retried by hand under a new Idempotency-Key %s (was %s)",
                 message.id, new_key, message.idempotency_key)
        message.idempotency_key = new_key
    outbox.start_again(message)
    db.session.commit()
    return message


__all__ = ["ActionError", "Forbidden", "Skipped", "acknowledge", "assign_courier", "cancel", "courier_status", "override",
           "picked_up", "retry_call"]

"""The durable outbox: calls Passline owes OneTablet or the customer app.

`enqueue` adds a message to the current transaction, so the call exists exactly when
the change that causes it is committed. The worker (app/onetablet/worker.py) sends it.
"""
import logging
import uuid

from sqlalchemy import select

from . import clock
from .extensions import db
from .models import OutboxMessage

log = logging.getLogger(__name__)
_WAKE = "outbox_wake"


def enqueue(*, target: str, kind: str, path: str, payload: dict, order_id=None) -> OutboxMessage:
    message = OutboxMessage(
        target=target,
        kind=kind,
        path=path,
        payload=payload,
        order_id=order_id,
        idempotency_key=str(uuid.uuid4()),
        status="pending",
        attempts=0,
        created_at=clock.now(),  # app.clock, not the column default: tests move it
        next_attempt_at=clock.now(),
    )
    db.session.add(message)
    db.session.info[_WAKE] = True
    return message


def wants_wake(session) -> bool:
    """True once per commit that queued a message (the worker is nudged after commit)."""
    return bool(session.info.pop(_WAKE, False))


def audit(order, event: str, *, actor: str, detail: dict):
    """An audit row about one of the order's calls (failed, retried by hand), through
    orders.apply like every change, so it is pushed live; the state does not move."""
    from . import orders
    from .lifecycle import Change

    def note(_lifecycle, o):
        o.version = (o.version or 0) + 1  # the card changes: its failed-call badge
        return [Change(event, o.state, o.state, detail=detail)]

    return orders.apply(order, note, actor=actor, event=event)


def retry(message_id: int, *, actor: str) -> OutboxMessage:
    """Staff send a failed message again: a fresh round of attempts, audited. Commits."""
    from . import orders
    from .actions import ActionError
    from .lifecycle import SUBMITTED
    from .onetablet import policy

    message = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()).scalar_one_or_none()
    refusal = None
    if message is None:
        refusal = ActionError(f"no call {message_id}", 404)
    elif message.status != "failed":
        refusal = ActionError(f"call {message_id} is {message.status}; only a failed call can be retried")
    order = orders.get_for_update(message.order_id) if message and message.order_id else None
    if refusal is None and message.kind == "create_order" and order is not None and order.state != SUBMITTED:
        refusal = ActionError(f"order is {order.state}: a manager must override it back to submitted "
                              "before it is sent to OneTablet again")
    if refusal is not None:
        db.session.rollback()  # after reading what the message says: a read now would begin anew
        raise refusal
    previous = {"message_id": message.id, "kind": message.kind, "attempts": message.attempts,
                "last_error": message.last_error}
    if policy.refused(message.last_status_code):
        # A new key: under the old one OneTablet (or the customer app) answered with a
        # refusal, so it did nothing, and one that keeps answers per key would only repeat
        # that refusal. Had any earlier try been done, its success would have been replayed
        # instead. After 5xx, 429 or no answer the key stays: that call may have been done.
        new_key = str(uuid.uuid4())
        previous["idempotency_key"] = [message.idempotency_key, new_key]  # [old, new], as changes are kept
        log.info("outbox message %s retried by hand under a new Idempotency-Key %s (was %s)",
                 message.id, new_key, message.idempotency_key)
        message.idempotency_key = new_key
    # failed_at stays: the give-up clock of the new round starts from it.
    message.status, message.attempts, message.next_attempt_at = "pending", 0, clock.now()
    message.locked_by = message.locked_until = None
    db.session.info[_WAKE] = True
    if order is not None:
        audit(order, "call_retried", actor=actor, detail=previous)
    db.session.commit()
    return message

"""The durable outbox: calls Passline owes OneTablet or the customer app.

This module is the queue: `enqueue` adds a message to the current transaction, so the
call exists exactly when the change that causes it is committed. Beside it: sender.py
(the threads that send due messages and record each answer), retry_policy.py (what an
answer means: done, retry when, or give up) and client.py (the HTTP clients).
"""
import logging
import uuid

from ..infra import clock
from ..extensions import db
from ..models import OutboxMessage

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


def start_again(message: OutboxMessage) -> None:
    """A failed message gets a fresh round of attempts (staff retried it by hand). Its
    failed_at stays: the give-up clock of the new round starts from it."""
    message.status, message.attempts, message.next_attempt_at = "pending", 0, clock.now()
    message.locked_by = message.locked_until = None
    db.session.info[_WAKE] = True

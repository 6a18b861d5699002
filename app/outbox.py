"""The durable outbox: calls Passline owes OneTablet or the customer app.

`enqueue` adds a message to the current transaction, so the call exists exactly when
the change that causes it is committed. The worker (app/onetablet/worker.py) sends it.
"""
import uuid

from .extensions import db
from .models import OutboxMessage

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
    )
    db.session.add(message)
    db.session.info[_WAKE] = True
    return message


def wants_wake(session) -> bool:
    """True once per commit that queued a message (the worker is nudged after commit)."""
    return bool(session.info.pop(_WAKE, False))

"""Live updates: announce a changed order to every board, only once its change is committed.

Changes are collected on the session while a transaction runs; their snapshots are taken
just before commit (when the rows are final) and emitted after commit, so a browser never
sees a change that was rolled back. With REDIS_URL set, socketio.emit goes through the
Redis message queue and reaches the browsers of every process.
"""
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import socketio

BOARD_ROOM = "board"
_PENDING = "live_pending_orders"
_READY = "live_ready_payloads"



def _order_payload(order) -> dict:
    return {
        "id": order.id,
        "version": order.version,
        "state": order.state,
        "courier_status": order.courier_status,
        "overdue": order.overdue_limit,
        "overdue_level": order.overdue_level,
    }


def _store_payload(store) -> dict:
    return {"id": store.merchant_supplied_id, "is_active": store.is_active}


# Socket.IO event name -> payload builder. The board may register a richer builder
# (one that renders the card) so live.py needs no template knowledge.
payload_builders = {"order": _order_payload, "store": _store_payload}


def changed(session: Session, kind: str, obj) -> None:
    """Remember that `obj` (an "order" or a "store") changed in this transaction."""
    session.info.setdefault(_PENDING, {})[(kind, id(obj))] = (kind, obj)


def order_changed(session: Session, order) -> None:
    changed(session, "order", order)


@event.listens_for(Session, "before_commit")
def _snapshot(session):
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()
    ready = session.info.setdefault(_READY, [])
    for kind, obj in pending.values():
        ready.append((kind, payload_builders[kind](obj)))


@event.listens_for(Session, "after_commit")
def _emit(session):
    payloads = session.info.pop(_READY, None)
    if not payloads:
        return
    for kind, payload in payloads:
        try:
            socketio.emit(kind, payload, to=BOARD_ROOM, namespace="/")
        except Exception:  # a push must never undo or fail a committed change
            current_app.logger.exception("live %s update %s not sent", kind, payload.get("id"))


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(_PENDING, None)
    session.info.pop(_READY, None)

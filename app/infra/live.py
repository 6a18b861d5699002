"""Live updates: announce changed orders (and stores) to every board, once committed.

Two paths, both emitting only after commit, so a browser never sees a change that was
rolled back:
- One changed row (a webhook, a staff action, a call that failed): its payload (the
  board's card) is built just before commit, when the row is final, and emitted right
  after commit from the same thread, before the request answers: boards see the change
  as soon as the sender gets its answer.
- Many rows changed by set-based statements (the overdue tick flags a thousand orders at
  once): only their ids are noted; after commit the process's publisher thread reads the
  rows fresh, builds their payloads many at a time and emits them, so the tick commits
  without waiting for a thousand cards, and ids that pile up meanwhile go out once each.
A push is best effort, as any network message: a board that missed one (a dropped
socket, a killed process) reloads itself on reconnect. With REDIS_URL set, socketio.emit
goes through the Redis message queue and reaches the browsers of every process.
"""
from __future__ import annotations

import atexit
import threading
import weakref
from typing import Callable, Iterable

import socketio as python_socketio
from flask import Flask, current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .db import reading_only
from ..extensions import db, socketio
from ..models import Order

BOARD_ROOM = "board"
_PENDING = "live_pending"  # session.info key: {(kind, id(object)): (kind, object)}
_PENDING_IDS = "live_pending_order_ids"  # session.info key: [order id]
_READY = "live_ready"  # session.info key: [(kind, payload)], built before commit
_COMMITTED_IDS = "live_committed_order_ids"  # session.info key: [order id], set before commit
# Ids per build: one IN query each; the first cards of a big batch reach boards early.
CHUNK = 200
# An idle publisher thread waits this long for more work before it ends.
LINGER_SECONDS = 2.0


def _order_payload(order) -> dict:
    return {"id": order.id, "version": order.version, "state": order.state, "courier_status": order.courier_status,
            "overdue": order.overdue_limit, "overdue_level": order.overdue_level}


def _order_payloads(ids: list[str]) -> list[dict]:
    return [_order_payload(o) for o in db.session.execute(select(Order).where(Order.id.in_(ids))).scalars()]


def _store_payload(store) -> dict:
    return {"id": store.merchant_supplied_id, "is_active": store.is_active}


# Socket.IO event name -> the payload of one changed object (built before commit), and
# "order" -> the payloads of many order ids (built by the publisher, rows read fresh, in
# an app context without a request). The board registers richer builders that render
# the cards, so live.py needs no template knowledge.
def _courier_payload(courier) -> dict:
    return {"id": courier.id, "is_active": courier.is_active}


payload_builders: dict[str, Callable[[object], dict]] = {"order": _order_payload, "store": _store_payload,
                                                         "courier": _courier_payload}
batch_builders: dict[str, Callable[[list], list[dict]]] = {"order": _order_payloads}


# --- what a transaction changed --------------------------------------------------------

def changed(session: Session, kind: str, obj) -> None:
    """Remember that `obj` (an "order", a "store" or a "courier") changed in this transaction."""
    session.info.setdefault(_PENDING, {})[(kind, id(obj))] = (kind, obj)


def order_changed(session: Session, order) -> None:
    changed(session, "order", order)


def orders_changed(session: Session, order_ids: Iterable[str]) -> None:
    """Many orders changed by set-based statements, known by id (no ORM objects)."""
    session.info.setdefault(_PENDING_IDS, []).extend(order_ids)


@event.listens_for(Session, "before_commit")
def _snapshot(session):
    pending = session.info.pop(_PENDING, None)
    order_ids = session.info.pop(_PENDING_IDS, None)
    if order_ids:
        session.info.setdefault(_COMMITTED_IDS, []).extend(order_ids)
    if pending:
        session.flush()
        ready = session.info.setdefault(_READY, [])
        for kind, obj in pending.values():
            ready.append((kind, payload_builders[kind](obj)))


@event.listens_for(Session, "after_commit")
def _emit(session):
    for kind, payload in session.info.pop(_READY, []):
        _send(kind, payload)
    order_ids = session.info.pop(_COMMITTED_IDS, None)
    if order_ids:
        publisher().publish(order_ids)


@event.listens_for(Session, "after_rollback")
def _forget(session):
    for key in (_PENDING, _PENDING_IDS, _READY, _COMMITTED_IDS):
        session.info.pop(key, None)


def _send(kind: str, payload: dict) -> None:
    try:
        socketio.emit(kind, payload, to=BOARD_ROOM, namespace="/")
    except Exception:  # a push must never undo or fail a committed change
        current_app.logger.exception("live: %s update %s not sent", kind, payload.get("id"))


class RedisQueue(python_socketio.RedisManager):
    """The Socket.IO message queue between processes (REDIS_URL), publishing with a short
    timeout: a push is emitted in the request that made the change, and a Redis that
    accepts connections but never answers once held every webhook ~10 s. Listening keeps
    no read timeout: a quiet channel is silence, not a fault."""

    PUBLISH_TIMEOUT_SECONDS = 0.5  # a publish takes well under a millisecond when Redis is well

    def _redis_connect(self):
        super()._redis_connect()  # self.pubsub, to listen, from a client without timeouts
        self.redis = self._get_redis_module().Redis.from_url(
            self.redis_url, socket_timeout=self.PUBLISH_TIMEOUT_SECONDS,
            socket_connect_timeout=self.PUBLISH_TIMEOUT_SECONDS)


# --- the publisher ---------------------------------------------------------------------

def publisher(app: Flask | None = None) -> Publisher:
    app = app or current_app._get_current_object()
    found = app.extensions.get("passline_live")
    if found is None:
        found = app.extensions["passline_live"] = Publisher(app)
    return found


def drain(app: Flask | None = None, timeout: float = 10.0) -> bool:
    """Wait until the publisher has emitted every committed id; False if `timeout` ran
    out. Tests call it before reading a socket; one-shot commands before they exit."""
    return publisher(app).drain(timeout)


class Publisher:
    """Coalesces committed order ids and emits their payloads from one thread, started
    when there is work and ended after LINGER_SECONDS without any."""

    def __init__(self, app: Flask):
        self._app = weakref.ref(app)  # tests build many apps: do not keep them alive
        self._cond = threading.Condition()
        self._pending: dict[str, None] = {}  # order ids in arrival order (a dict as an ordered set)
        self._running = False
        self._busy = False
        _publishers.add(self)

    def publish(self, order_ids: list[str]) -> None:
        with self._cond:
            self._pending.update(dict.fromkeys(order_ids))
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="passline-live", daemon=True).start()
            self._cond.notify_all()

    def drain(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._pending:
                    self._cond.wait_for(lambda: self._pending, LINGER_SECONDS)
                if not self._pending:
                    self._running = False
                    self._cond.notify_all()
                    return
                batch, self._pending, self._busy = list(self._pending), {}, True
            try:
                self._send(batch)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _send(self, order_ids: list[str]) -> None:
        app = self._app()
        if app is None:
            return
        with app.app_context(), reading_only():
            try:
                for start in range(0, len(order_ids), CHUNK):
                    self._emit(order_ids[start:start + CHUNK])
            finally:
                db.session.remove()

    @staticmethod
    def _emit(order_ids: list[str]) -> None:
        try:
            payloads = batch_builders["order"](order_ids)
            db.session.rollback()  # read only: end the transaction before the network
        except Exception:  # a push must never stop the pushes behind it
            current_app.logger.exception("live: order updates for %s not built", order_ids[:5])
            db.session.rollback()
            return
        for payload in payloads:
            _send("order", payload)


_publishers: weakref.WeakSet[Publisher] = weakref.WeakSet()


@atexit.register
def _drain_all() -> None:
    """A one-shot command (flask scheduler --once) exits only after its pushes are out."""
    for found in list(_publishers):
        found.drain(5.0)

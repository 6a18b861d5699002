"""Live updates: announce changed orders (and stores) to every board, once committed.

A transaction only notes what it changed (kind and id). After it commits, the ids go to
this process's publisher: a background thread that reads the rows fresh, builds the
payloads for many ids at once (the board renders the cards) and emits them. So:
- a browser never sees a change that was rolled back, and always the newest version;
- building a card costs the change nothing: a webhook answers, and an overdue tick that
  flags a thousand orders commits, without waiting for a thousand cards to render;
- changes that pile up while the publisher works are coalesced: one event per order.
A push is best effort, as any network message: a board that missed one (a dropped
socket, a killed process) reloads itself on reconnect. With REDIS_URL set, socketio.emit
goes through the Redis message queue and reaches the browsers of every process.
"""
from __future__ import annotations

import atexit
import threading
import weakref
from typing import Callable, Iterable

from flask import Flask, current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .db import reading_only
from .extensions import db, socketio
from .models import Order, Store

BOARD_ROOM = "board"
_PENDING = "live_pending"  # session.info key: {(kind, id(object)): (kind, object)}
_PENDING_IDS = "live_pending_order_ids"  # session.info key: [order id]
_COMMITTED = "live_committed"  # session.info key: {kind: [ids]}, set before commit
# Ids per build: one IN query each; the first cards of a big batch reach boards early.
CHUNK = 200
# An idle publisher thread waits this long for more work before it ends.
LINGER_SECONDS = 2.0


def _order_payloads(ids: list[str]) -> list[dict]:
    rows = db.session.execute(select(Order).where(Order.id.in_(ids))).scalars()
    return [{"id": o.id, "version": o.version, "state": o.state, "courier_status": o.courier_status,
             "overdue": o.overdue_limit, "overdue_level": o.overdue_level} for o in rows]


def _store_payloads(ids: list[int]) -> list[dict]:
    rows = db.session.execute(select(Store).where(Store.id.in_(ids))).scalars()
    return [{"id": s.merchant_supplied_id, "is_active": s.is_active} for s in rows]


# Socket.IO event name -> builder of the payloads for many ids (rows read fresh, in an app
# context without a request). The board registers a richer "order" builder that renders
# the cards, so live.py needs no template knowledge.
payload_builders: dict[str, Callable[[list], list[dict]]] = {"order": _order_payloads, "store": _store_payloads}


# --- what a transaction changed --------------------------------------------------------

def changed(session: Session, kind: str, obj) -> None:
    """Remember that `obj` (an "order" or a "store") changed in this transaction."""
    session.info.setdefault(_PENDING, {})[(kind, id(obj))] = (kind, obj)


def order_changed(session: Session, order) -> None:
    changed(session, "order", order)


def orders_changed(session: Session, order_ids: Iterable[str]) -> None:
    """Many orders changed by set-based statements, known by id (no ORM objects)."""
    session.info.setdefault(_PENDING_IDS, []).extend(order_ids)


@event.listens_for(Session, "before_commit")
def _note_ids(session):
    pending = session.info.pop(_PENDING, {})
    order_ids = session.info.pop(_PENDING_IDS, [])
    if not pending and not order_ids:
        return
    session.flush()  # new rows get their ids
    committed = session.info.setdefault(_COMMITTED, {})
    if order_ids:
        committed.setdefault("order", []).extend(order_ids)
    for kind, obj in pending.values():
        committed.setdefault(kind, []).append(obj.id)


@event.listens_for(Session, "after_commit")
def _publish(session):
    committed = session.info.pop(_COMMITTED, None)
    if committed:
        publisher().publish(committed)


@event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop(_PENDING, None)
    session.info.pop(_PENDING_IDS, None)
    session.info.pop(_COMMITTED, None)


# --- the publisher ---------------------------------------------------------------------

def publisher(app: Flask | None = None) -> Publisher:
    app = app or current_app._get_current_object()
    found = app.extensions.get("passline_live")
    if found is None:
        found = app.extensions["passline_live"] = Publisher(app)
    return found


def drain(app: Flask | None = None, timeout: float = 10.0) -> bool:
    """Wait until every committed change has been emitted; False if `timeout` ran out.
    Tests call it before reading a socket; one-shot commands before they exit."""
    return publisher(app).drain(timeout)


class Publisher:
    """Coalesces committed ids per kind and emits their payloads from one thread, started
    when there is work and ended after LINGER_SECONDS without any."""

    def __init__(self, app: Flask):
        self._app = weakref.ref(app)  # tests build many apps: do not keep them alive
        self._cond = threading.Condition()
        self._pending: dict[str, dict] = {}  # kind -> ids in arrival order (a dict as an ordered set)
        self._running = False
        self._busy = False
        _publishers.add(self)

    def publish(self, committed: dict[str, list]) -> None:
        with self._cond:
            for kind, ids in committed.items():
                self._pending.setdefault(kind, {}).update(dict.fromkeys(ids))
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
                batch, self._pending, self._busy = self._pending, {}, True
            try:
                self._send(batch)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _send(self, batch: dict[str, dict]) -> None:
        app = self._app()
        if app is None:
            return
        with app.app_context(), reading_only():
            try:
                for kind, ids in batch.items():
                    ids = list(ids)
                    for start in range(0, len(ids), CHUNK):
                        self._emit(kind, ids[start:start + CHUNK])
            finally:
                db.session.remove()

    @staticmethod
    def _emit(kind: str, ids: list) -> None:
        try:
            payloads = payload_builders[kind](ids)
            db.session.rollback()  # read only: end the transaction before the network
        except Exception:  # a push must never stop the pushes behind it
            current_app.logger.exception("live: %s updates for %s not built", kind, ids[:5])
            db.session.rollback()
            return
        for payload in payloads:
            try:
                socketio.emit(kind, payload, to=BOARD_ROOM, namespace="/")
            except Exception:
                current_app.logger.exception("live: %s update %s not sent", kind, payload.get("id"))


_publishers: weakref.WeakSet[Publisher] = weakref.WeakSet()


@atexit.register
def _drain_all() -> None:
    """A one-shot command (flask scheduler --once) exits only after its pushes are out."""
    for found in list(_publishers):
        found.drain(5.0)

"""Live updates: announce changed orders (and stores, couriers) to every board, once committed.

Wiring, in one place: `init_app(app, order_card=…, order_cards=…)` (called by the board,
which owns the card) keeps this app's builders and publisher in `app.extensions` and
registers the session hooks below on `db.session`. Nothing else sets them.

Both paths emit only after commit, so a browser never sees a change that was rolled back,
and neither makes the request wait for the fan-out to N boards:
- One changed row (a webhook, a staff action, a call that failed): its payload (the
  board's card) is rendered once, just before commit, when the row is final; after
  commit it is handed to the process's publisher thread, which emits it to every board
  while the request answers.
- Many rows changed by set-based statements (the overdue tick flags a thousand orders at
  once): only their ids are noted; the publisher reads the rows fresh after commit,
  builds their payloads many at a time and emits them, so the tick commits without
  waiting for a thousand cards, and ids that pile up meanwhile go out once each.
A push is best effort, as any network message: a board that missed one (a dropped
socket, a killed process) reloads itself on reconnect. With REDIS_URL set, socketio.emit
publishes to python-socketio's Redis message queue (app/__init__.py) and reaches the
boards of every process; a Redis that hangs holds the publisher, never a request.
"""
from __future__ import annotations

import atexit
import threading
import time
import weakref
from typing import Callable, Iterable

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from .db import reading_only
from ..extensions import db, socketio

BOARD_ROOM = "board"
_PENDING = "live_pending"  # session.info key: {(kind, id(object)): (kind, object)}
_PENDING_IDS = "live_pending_order_ids"  # session.info key: [order id]
_READY = "live_ready"  # session.info key: [(kind, payload)], built before commit
_COMMITTED_IDS = "live_committed_order_ids"  # session.info key: [order id], set before commit
# Ids per build: one IN query each; the first cards of a big batch reach boards early.
CHUNK = 200
# An idle publisher thread waits this long for more work before it ends.
LINGER_SECONDS = 2.0
# Frames per second the publisher may hand this process's boards: a wave (one event to
# every board) costs a frame per board, ~20 µs of the one core each, so 2,000 boards at
# 20 changes a second would be 40,000 frames, 80 % of the core that answers webhooks.
# Waves are spaced by boards ÷ FRAME_BUDGET (5 ms at 50 boards, 200 ms at 2,000): a
# change after a quiet spell goes at once, and changes that come faster share a wave.
FRAME_BUDGET = 10_000


def _store_payload(store) -> dict:
    return {"id": store.merchant_supplied_id, "is_active": store.is_active}


def _courier_payload(courier) -> dict:
    return {"id": courier.id, "is_active": courier.is_active}


def init_app(app: Flask, *, order_card: Callable[[object], dict],
             order_cards: Callable[[list[str]], list[dict]], boards_open: Callable[[], int]) -> None:
    """Push this app's committed changes to its boards. `order_card(order)` builds one
    changed order's payload before commit; `order_cards(ids)` many, from fresh rows, in an
    app context without a request (the publisher); `boards_open()` how many boards this
    process holds (the pace of its waves)."""
    app.extensions["passline_live"] = Live(app, order_card, order_cards, boards_open)
    for name, hook in (("before_commit", _snapshot), ("after_commit", _emit), ("after_rollback", _forget)):
        if not event.contains(db.session, name, hook):  # db.session is shared by every app
            event.listen(db.session, name, hook)


class Live:
    """One app's live wiring: payload builders by event name, and its publisher."""

    def __init__(self, app: Flask, order_card, order_cards, boards_open):
        self.payloads: dict[str, Callable[[object], dict]] = {
            "order": order_card, "store": _store_payload, "courier": _courier_payload}
        self.order_cards = order_cards
        self.boards_open = boards_open
        self.publisher = Publisher(app, self)


def of(app: Flask | None = None) -> Live | None:
    return (app or current_app).extensions.get("passline_live")


# --- what a transaction changed --------------------------------------------------------

def changed(session: Session, kind: str, obj) -> None:
    """Remember that `obj` (an "order", a "store" or a "courier") changed in this transaction."""
    session.info.setdefault(_PENDING, {})[(kind, id(obj))] = (kind, obj)


def order_changed(session: Session, order) -> None:
    changed(session, "order", order)


def orders_changed(session: Session, order_ids: Iterable[str]) -> None:
    """Many orders changed by set-based statements, known by id (no ORM objects)."""
    session.info.setdefault(_PENDING_IDS, []).extend(order_ids)


def _snapshot(session: Session) -> None:
    live = of()
    pending = session.info.pop(_PENDING, None)
    order_ids = session.info.pop(_PENDING_IDS, None)
    if live is None:
        return
    if order_ids:
        session.info.setdefault(_COMMITTED_IDS, []).extend(order_ids)
    if pending:
        session.flush()
        ready = session.info.setdefault(_READY, [])
        for kind, obj in pending.values():
            ready.append((kind, live.payloads[kind](obj)))


def _emit(session: Session) -> None:
    ready = session.info.pop(_READY, None)
    order_ids = session.info.pop(_COMMITTED_IDS, None)
    if ready or order_ids:
        of().publisher.publish(ready or [], order_ids or [])


def _forget(session: Session) -> None:
    for key in (_PENDING, _PENDING_IDS, _READY, _COMMITTED_IDS):
        session.info.pop(key, None)


def _send(app: Flask, kind: str, payload: dict | list[dict]) -> None:
    try:
        socketio.emit(kind, payload, to=BOARD_ROOM, namespace="/")
    except Exception:  # a push must never stop the pushes behind it
        about = [p.get("id") for p in payload[:5]] if isinstance(payload, list) else payload.get("id")
        app.logger.exception("live: %s update %s not sent", kind, about)


# --- the publisher ---------------------------------------------------------------------

def drain(app: Flask | None = None, timeout: float = 10.0) -> bool:
    """Wait until the publisher has emitted everything committed so far; False if `timeout`
    ran out. Tests call it before reading a socket; one-shot commands before they exit."""
    live = of(app)
    return True if live is None else live.publisher.drain(timeout)


class Publisher:
    """Emits committed changes from one thread (a greenlet when serving), started when
    there is work and ended after LINGER_SECONDS without any. Payloads that pile up while
    it is busy go out once each, the newest version of an order winning; ids are built
    into payloads CHUNK at a time."""

    def __init__(self, app: Flask, live: Live):
        self._app = weakref.ref(app)  # tests build many apps: do not keep them alive
        self._live = live
        self._cond = threading.Condition()
        self._ready: dict[tuple[str, object], tuple[str, dict]] = {}  # (kind, id) -> (kind, payload), in order
        self._pending: dict[str, None] = {}  # order ids in arrival order (a dict as an ordered set)
        self._running = False
        self._busy = False
        _publishers.add(self)

    def publish(self, ready: list[tuple[str, dict]], order_ids: list[str]) -> None:
        with self._cond:
            for kind, payload in ready:
                key = (kind, payload.get("id"))
                older = self._ready.get(key)
                if older is None or payload.get("version", 0) >= older[1].get("version", 0):
                    self._ready[key] = (kind, payload)
            self._pending.update(dict.fromkeys(order_ids))
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="passline-live", daemon=True).start()
            self._cond.notify_all()

    def drain(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: not self._has_work() and not self._busy, timeout)

    def _has_work(self) -> bool:
        return bool(self._ready or self._pending)

    def _run(self) -> None:
        last_wave = float("-inf")
        while True:
            with self._cond:
                if not self._has_work():
                    self._cond.wait_for(self._has_work, LINGER_SECONDS)
                if not self._has_work():
                    self._running = False
                    self._cond.notify_all()
                    return
            time.sleep(max(0.0, last_wave + self._spacing() - time.monotonic()))  # more joins the wave
            with self._cond:
                ready, order_ids = list(self._ready.values()), list(self._pending)
                self._ready, self._pending, self._busy = {}, {}, True
            last_wave = time.monotonic()
            try:
                self._send(ready, order_ids)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _spacing(self) -> float:
        """Seconds from one wave to the next (FRAME_BUDGET)."""
        try:
            return self._live.boards_open() / FRAME_BUDGET
        except Exception:  # never stop the pushes for a count
            return 0.0

    def _send(self, ready: list[tuple[str, dict]], order_ids: list[str]) -> None:
        app = self._app()
        if app is None:
            return
        for kind, payload in ready:
            if kind != "order":
                _send(app, kind, payload)
        _send_orders(app, [payload for kind, payload in ready if kind == "order"])
        if not order_ids:
            return
        with app.app_context(), reading_only():
            try:
                for start in range(0, len(order_ids), CHUNK):
                    self._emit(app, order_ids[start:start + CHUNK])
            finally:
                db.session.remove()

    def _emit(self, app: Flask, order_ids: list[str]) -> None:
        try:
            payloads = self._live.order_cards(order_ids)
            db.session.rollback()  # read only: end the transaction before the network
        except Exception:  # a push must never stop the pushes behind it
            app.logger.exception("live: order updates for %s not built", order_ids[:5])
            db.session.rollback()
            return
        _send_orders(app, payloads)


def _send_orders(app: Flask, payloads: list[dict]) -> None:
    """One "order" event for one card; the cards that piled up while the publisher was busy
    go as one "orders" event (a list) per CHUNK: each board costs the process a frame per
    event, so with 2,000 boards open a burst costs 2,000 frames, not 2,000 per card."""
    for start in range(0, len(payloads), CHUNK):
        chunk = payloads[start:start + CHUNK]
        if len(chunk) == 1:
            _send(app, "order", chunk[0])
        else:
            _send(app, "orders", chunk)


_publishers: weakref.WeakSet[Publisher] = weakref.WeakSet()


@atexit.register
def _drain_all() -> None:
    """A one-shot command (flask scheduler --once) exits only after its pushes are out."""
    for found in list(_publishers):
        found.drain(5.0)

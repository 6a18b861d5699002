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
Strips (the attention strip, the courier panel's list: the board hands them in as
`Strip`s) show many orders at once, the same to every board. A change that touches one
marks it due; once its burst has ended (QUIET_SECONDS without a change), at most one per
STRIP_GAP_SECONDS and never later than that after the burst began, the publisher renders
it once and emits it to every board as its own event ({"html": ...}): with 2,000 boards
open a burst costs one render, not 2,000 boards asking for it. A `periodic` one also goes
out every FRESH_SECONDS while boards are connected to this process, for what changes with
time alone.
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
from typing import Callable, Iterable, Mapping, NamedTuple

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
# An idle publisher thread waits this long for more work before it ends (while no board
# is connected to this process: else it stays, for the periodic strips).
LINGER_SECONDS = 2.0
# Frames per second the publisher may hand this process's boards: a wave (one event to
# every board) costs a frame per board, ~20 µs of the one core each, so 2,000 boards at
# 20 changes a second would be 40,000 frames, 80 % of the core that answers webhooks.
# Waves of cards are spaced by boards ÷ FRAME_BUDGET (5 ms at 50 boards, 200 ms at 2,000):
# a change after a quiet spell goes at once, and changes that come faster share a wave.
FRAME_BUDGET = 10_000
# A burst of changes has ended after this long without one: its strips go out.
QUIET_SECONDS = 0.25
# At most one of each strip per this long per process, and never later than this after
# the first change of a burst (a steady stream of changes never ends its burst).
STRIP_GAP_SECONDS = 1.0
# A periodic strip (the attention strip: "the overdue tick stopped" comes with time, not
# with a change) is pushed this often while boards are connected here: one render for
# all of them, where a poll, even jittered, costs a request per board (2,000 boards: 33
# requests a second on the core that answers webhooks). With several processes each
# pushes its own (through Redis every board hears them all): a few per minute, still
# one render per process.
FRESH_SECONDS = 60.0


class Strip(NamedTuple):
    """A fragment every board shows alike, pushed as its own event ({"html": render()})
    after changes that `touched_by(kind, payload)` says it shows; `render()` runs in the
    publisher, in an app context without a request."""
    touched_by: Callable[[str, dict], bool]
    render: Callable[[], str]
    periodic: bool = False


def _store_payload(store) -> dict:
    return {"id": store.merchant_supplied_id, "is_active": store.is_active}


def _courier_payload(courier) -> dict:
    return {"id": courier.id, "is_active": courier.is_active}


def init_app(app: Flask, *, order_card: Callable[[object], dict],
             order_cards: Callable[[list[str]], list[dict]], boards_open: Callable[[], int],
             strips: Mapping[str, Strip] | None = None) -> None:
    """Push this app's committed changes to its boards. `order_card(order)` builds one
    changed order's payload before commit; `order_cards(ids)` many, from fresh rows, in an
    app context without a request (the publisher); `boards_open()` how many boards this
    process holds (the pace of its waves); `strips` by event name."""
    app.extensions["passline_live"] = Live(app, order_card, order_cards, boards_open, strips or {})
    for name, hook in (("before_commit", _snapshot), ("after_commit", _emit), ("after_rollback", _forget)):
        if not event.contains(db.session, name, hook):  # db.session is shared by every app
            event.listen(db.session, name, hook)


class Live:
    """One app's live wiring: payload builders by event name, and its publisher."""

    def __init__(self, app: Flask, order_card, order_cards, boards_open, strips: Mapping[str, Strip]):
        self.payloads: dict[str, Callable[[object], dict]] = {
            "order": order_card, "store": _store_payload, "courier": _courier_payload}
        self.order_cards = order_cards
        self.boards_open = boards_open
        self.strips = dict(strips)
        self.publisher = Publisher(app, self)

    def touched(self, changes: Iterable[tuple[str, dict]]) -> set[str]:
        """The strips that show any of these changes."""
        changes = list(changes)
        return {name for name, strip in self.strips.items() if any(strip.touched_by(*c) for c in changes)}


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
    """Wait until the publisher has emitted everything committed so far, the strips due
    included (sent now, without waiting for their burst to end); False if `timeout` ran
    out. Tests call it before reading a socket; one-shot commands before they exit."""
    live = of(app)
    return True if live is None else live.publisher.drain(timeout)


def board_opened(app: Flask | None = None) -> None:
    """A board page is being served: the publisher stays up while boards are connected
    here, for the periodic strips (a quiet night has no change to start it)."""
    live = of(app)
    if live is not None:
        live.publisher.publish([], [])


class Publisher:
    """Emits committed changes from one thread (a greenlet when serving), started when
    there is work and ended after LINGER_SECONDS without any while no board is connected
    here. Payloads that pile up while it is busy go out once each, the newest version of
    an order winning; ids are built into payloads CHUNK at a time; the strips they touch
    go out once per burst, after them."""

    def __init__(self, app: Flask, live: Live):
        self._app = weakref.ref(app)  # tests build many apps: do not keep them alive
        self._live = live
        self._cond = threading.Condition()
        self._ready: dict[tuple[str, object], tuple[str, dict]] = {}  # (kind, id) -> (kind, payload), in order
        self._pending: dict[str, None] = {}  # order ids in arrival order (a dict as an ordered set)
        self._last_wave = float("-inf")  # when cards last went out (FRAME_BUDGET)
        self._strips = _StripSchedule([name for name, strip in live.strips.items() if strip.periodic])
        self._draining = 0  # drain() calls waiting: the strips due go at once
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
            if ready or order_ids:
                self._strips.changed(time.monotonic())
            if not self._running:
                self._running = True
                self._strips.started(time.monotonic())
                threading.Thread(target=self._run, name="passline-live", daemon=True).start()
            self._cond.notify_all()

    def drain(self, timeout: float) -> bool:
        with self._cond:
            self._draining += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(lambda: not self._has_work() and not self._busy, timeout)
            finally:
                self._draining -= 1

    def _has_work(self) -> bool:
        return bool(self._ready or self._pending or self._strips.due)

    def _next(self) -> tuple[list[tuple[str, dict]], list[str], list[str]] | None:
        """Under the lock, waiting for it: what to send next (cards in waves, strips when
        their schedule says); None when the thread should end."""
        idle_since = time.monotonic()
        while self._app() is not None:
            now = time.monotonic()
            if self._ready or self._pending:
                rest = self._last_wave + self._spacing() - now
                if rest > 0:  # what comes meanwhile joins this wave
                    self._cond.wait(rest)
                    continue
                ready, order_ids = list(self._ready.values()), list(self._pending)
                self._ready, self._pending, self._last_wave = {}, {}, now
                return ready, order_ids, []
            # Boards connected here keep the thread up, for the periodic strips.
            boards = bool(self._strips.periodic) and self._boards_here() > 0
            strips = self._strips.take(now, draining=self._draining > 0, boards=boards)
            if strips:
                return [], [], strips
            if not self._strips.due and not boards and now - idle_since >= LINGER_SECONDS:
                return None
            until = min(self._strips.wake_at(boards), float("inf") if boards else idle_since + LINGER_SECONDS)
            self._cond.wait(max(0.0, min(until - now, LINGER_SECONDS)))
        return None

    def _boards_here(self) -> int:
        try:
            return self._live.boards_open()
        except Exception:  # never stop the pushes for a count
            return 0

    def _spacing(self) -> float:
        """Seconds from one wave of cards to the next (FRAME_BUDGET)."""
        return self._boards_here() / FRAME_BUDGET

    def _run(self) -> None:
        while True:
            with self._cond:
                batch = self._next()
                if batch is None:
                    self._running = False
                    self._strips.due, self._pending, self._ready = {}, {}, {}  # the app is gone, or nothing is
                    self._cond.notify_all()
                    return
                self._busy = True
            touched: set[str] = set()
            try:
                ready, order_ids, strips = batch
                touched = self._send(ready, order_ids) if ready or order_ids else set()
                if strips:
                    self._send_strips(strips)
            finally:
                with self._cond:
                    self._strips.touched(touched, time.monotonic())
                    self._busy = False
                    self._cond.notify_all()

    def _send(self, ready: list[tuple[str, dict]], order_ids: list[str]) -> set[str]:
        """Emits the changes; returns the strips they touch."""
        app = self._app()
        if app is None:
            return set()
        for kind, payload in ready:
            if kind != "order":
                _send(app, kind, payload)
        _send_orders(app, [payload for kind, payload in ready if kind == "order"])
        touched = self._live.touched(ready)
        if not order_ids:
            return touched
        with app.app_context(), reading_only():
            try:
                for start in range(0, len(order_ids), CHUNK):
                    payloads = self._emit(app, order_ids[start:start + CHUNK])
                    # Unbuilt, they may touch any strip: every one is rendered again.
                    touched |= set(self._live.strips) if payloads is None else self._live.touched(
                        ("order", payload) for payload in payloads)
            finally:
                db.session.remove()
        return touched

    def _emit(self, app: Flask, order_ids: list[str]) -> list[dict] | None:
        try:
            payloads = self._live.order_cards(order_ids)
            db.session.rollback()  # read only: end the transaction before the network
        except Exception:  # a push must never stop the pushes behind it
            app.logger.exception("live: order updates for %s not built", order_ids[:5])
            db.session.rollback()
            return None
        _send_orders(app, payloads)
        return payloads

    def _send_strips(self, names: list[str]) -> None:
        """Each strip rendered once, from fresh rows, for every board."""
        app = self._app()
        if app is None:
            return
        rendered = []
        with app.app_context(), reading_only():
            try:
                for name in names:
                    try:
                        rendered.append((name, {"html": self._live.strips[name].render()}))
                    except Exception:  # a push must never stop the pushes behind it
                        app.logger.exception("live: %s not rendered", name)
                    finally:
                        db.session.rollback()  # read only: end the transaction before the network
            finally:
                db.session.remove()
        for name, payload in rendered:
            _send(app, name, payload)


class _StripSchedule:
    """When the strips go out; the publisher's, used under its lock. The strips a burst of
    changes touched go once it has ended (QUIET_SECONDS without a change), at most one of
    each per STRIP_GAP_SECONDS and never later than that after the burst began; the
    periodic ones every FRESH_SECONDS while boards are connected here."""

    def __init__(self, periodic: list[str]):
        self.periodic = periodic
        self.due: dict[str, None] = {}  # strips to render, by event name (an ordered set)
        self._burst_began = float("inf")  # when the first of the due strips became due
        self._last_change = float("-inf")  # when the last change was published
        self._sent = float("-inf")  # when strips last went out
        self._fresh_at = float("inf")  # when the periodic strips go out next

    def started(self, now: float) -> None:
        """The publisher thread started: the periodic strips are due a period from now."""
        self._fresh_at = now + FRESH_SECONDS

    def changed(self, now: float) -> None:
        self._last_change = now

    def touched(self, names: set[str], now: float) -> None:
        """Cards went out that show in these strips."""
        if names - set(self.due):
            if not self.due:
                self._burst_began = now
            self.due.update(dict.fromkeys(sorted(names)))

    def take(self, now: float, *, draining: bool, boards: bool) -> list[str]:
        """The strips to render and send now, if any (drain() sends the due ones at once)."""
        if self.due and (draining or now >= self._due_at()):
            names = list(self.due)
        elif boards and self.periodic and now >= self._fresh_at:
            names = list(dict.fromkeys([*self.due, *self.periodic]))
        else:
            return []
        self.due, self._burst_began = {}, float("inf")
        self._sent, self._fresh_at = now, now + FRESH_SECONDS
        return names

    def wake_at(self, boards: bool) -> float:
        """When take() may next have something."""
        return min(self._due_at(), self._fresh_at if boards and self.periodic else float("inf"))

    def _due_at(self) -> float:
        """When the due strips go: their burst ended or a gap after it began, and a gap
        after the last ones."""
        if not self.due:
            return float("inf")
        ended = min(self._last_change + QUIET_SECONDS, self._burst_began + STRIP_GAP_SECONDS)
        return max(ended, self._sent + STRIP_GAP_SECONDS)


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

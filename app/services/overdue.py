"""The overdue tick (contract §2): flag every order whose alarm is due, once.

An order's `next_alarm_at` (kept by the lifecycle) says when the scheduler must next look
at it: its deadline, then twice its limit, then NULL. A tick reads only rows with
`next_alarm_at <= now`, an indexed range, so it stays cheap however many orders are open.

Two guards keep flagging single even if two schedulers run (a misconfiguration, contract §7):
- one tick at a time: on PostgreSQL a transaction-scoped advisory lock (a second
  scheduler finds it taken and skips its tick); SQLite's BEGIN IMMEDIATE serialises
  every writer anyway;
- each order at most once per alarm: rows are locked (`FOR UPDATE SKIP LOCKED`) and the
  lifecycle re-checks `next_alarm_at` on the locked, fresh row, which the flag moves on.

Flags are set-based (orders.apply_to_rows): the due rows' alarm columns in one SELECT, the
lifecycle's check_overdue on each, one UPDATE and one INSERT of audit rows per batch.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from flask import current_app
from sqlalchemy import Select, func, select

from ..infra import clock
from . import orders
from ..extensions import db
from ..domain.lifecycle import CheckOverdue
from ..models import Order

ACTOR = "scheduler"
# What the lifecycle's check_overdue writes, and what else it reads: the tick loads only
# these columns (not the order's payload) and writes the first group back
# (orders.apply_to_rows: one UPDATE and one INSERT of audit rows per chunk).
WRITES = ("next_alarm_at", "overdue_level", "overdue_limit", "overdue_since", "acknowledged_at", "version")
READS = ("state", "deadline_limit", "deadline_started_at", "deadline_at")
# Orders per transaction. A flag costs a few tens of microseconds (the board's cards are
# rendered after commit, by app/infra/live.py), so a batch holds SQLite's write lock for a few
# tens of milliseconds at most, and a tick with 1% of 100,000 orders due is one batch.
BATCH_SIZE = 1000
# pg_try_advisory_xact_lock key: any constant no other lock uses ("overdue" in ASCII).
LOCK_KEY = 0x6F7665726475


def due_query(now: datetime, limit: int = BATCH_SIZE) -> Select:
    """The next due orders, oldest alarm first; rows another transaction holds are skipped
    (they are being changed right now and will be seen again by the next tick)."""
    return (
        select(Order.id, *(getattr(Order, name) for name in READS + WRITES))
        .where(Order.next_alarm_at <= now)
        .order_by(Order.next_alarm_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def tick(now: Optional[datetime] = None, *, batch_size: int = BATCH_SIZE, single: bool = True) -> int:
    """Flag or escalate every due order; return how many changed. Each batch is committed
    (audit rows, then the live push after commit). `single=False` leaves out the advisory
    lock: only tests use it, to show the row guard alone keeps flagging idempotent."""
    now = now or clock.now()
    changed = 0
    while True:
        # One row more than a batch says whether another batch follows (its lock is
        # released at commit), so a tick never ends with a query that finds nothing.
        rows = db.session.connection().execute(due_query(now, batch_size + 1)).all()
        batch = rows[:batch_size]
        if not batch or (single and not _take_tick_lock()):
            db.session.rollback()  # nothing due (one query: the usual tick), or another
            return changed         # scheduler is ticking right now
        try:
            changed += _flag(batch, now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            # One order that cannot be flagged must not hold back the others behind it:
            # flag this batch one order at a time, then leave the rest to the next tick.
            return changed + _flag_one_by_one([row.id for row in batch], now, single)
        if len(rows) <= batch_size:
            return changed


def _flag(rows, now: datetime) -> int:
    return orders.apply_to_rows(rows, CheckOverdue(), actor=ACTOR, fields=WRITES)


def _flag_one_by_one(order_ids: list[str], now: datetime, single: bool) -> int:
    changed = 0
    for order_id in order_ids:
        try:
            if single and not _take_tick_lock():
                break
            rows = db.session.execute(due_query(now, 1).where(Order.id == order_id)).all()
            changed += _flag(rows, now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            current_app.logger.exception("overdue: order %s could not be flagged; retried next tick", order_id)
    db.session.rollback()
    return changed


def _take_tick_lock() -> bool:
    """PostgreSQL: an advisory lock held until this transaction ends. Elsewhere: True."""
    if db.session.get_bind().dialect.name != "postgresql":
        return True
    return bool(db.session.execute(select(func.pg_try_advisory_xact_lock(LOCK_KEY))).scalar())

"""One order card, rendered the same way for a page load and for a live update, and the
live payloads that carry it (given to live.init_app by app/board/__init__.py)."""
from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_request_context, render_template, request

from ..infra import clock
from ..extensions import db
from ..domain import lifecycle
from ..domain.lifecycle import SUBMITTED, TERMINAL
from ..models import Courier, Store
from .queries import COLUMN_OF_STATE, failed_calls, load_orders


def alarming(order) -> bool:
    """A new order, or an overdue one, that nobody has opened or acknowledged yet."""
    return order.acknowledged_at is None and (order.state == SUBMITTED or bool(order.overdue_level))


def inactive_courier(order) -> str:
    """What a card says of an open order whose courier was deactivated: what can be done,
    which depends on whether the rules still let its courier change."""
    if lifecycle.can_change_courier(order):
        return "inactive — reassign"
    return "inactive — delivering; contact them"


def order_url(order_id: str) -> str:
    """The detail's URL, as url_for("board.order_detail") builds it, without its per-call
    cost: a board renders its cards by the hundred."""
    return f"{request.script_root}/orders/{quote(order_id, safe='/')}"


def epoch_ms(value: datetime | None) -> int:
    return int(value.timestamp() * 1000) if value else 0


def render_card(order, *, failed: int, now: datetime, store=None, courier=None) -> str:
    return render_template("board/_card.html", order=order, failed=failed, now=now, card_store=store,
                           card_courier=courier)


def order_payload(order) -> dict:
    """The live update for one changed order, built just before commit (rows final,
    flushed), maybe from a job without a request; the card is the same for every viewer,
    so no user is involved."""
    # By id, not through the relationships: a changed courier_id does not refresh an already
    # loaded `order.courier`, and the identity map usually answers without a query.
    store = db.session.get(Store, order.store_id)
    courier = db.session.get(Courier, order.courier_id) if order.courier_id else None
    with request_free():
        return _payload(order, failed_calls([order.id])[order.id], clock.now(), store=store, courier=courier)


def order_payloads(order_ids: list[str]) -> list[dict]:
    """The live updates for many orders, built by the live publisher after commit: one
    query for the rows (with store and courier), one for failed calls, however many."""
    rows = load_orders(order_ids)
    failed = failed_calls(rows)
    now = clock.now()
    with request_free():
        return [_payload(order, failed[order.id], now) for order in rows.values()]


def request_free():
    """url_for and friends need one; a job or the publisher has none."""
    return nullcontext() if has_request_context() else current_app.test_request_context("/")


def _payload(order, failed: int, now: datetime, **related) -> dict:
    """The card as HTML, and what orders updates in the browser (version) and where the
    card goes (column)."""
    return {
        "id": order.id,
        "version": order.version,
        "state": order.state,
        "column": COLUMN_OF_STATE.get(order.state),
        "courier_status": order.courier_status,
        "courier_id": order.courier_id,  # the courier panel refreshes when a courier's orders change
        "overdue": order.overdue_limit,
        "overdue_level": order.overdue_level,
        "alarm": alarming(order),
        "html": render_card(order, failed=failed, now=now, **related),
    }


def money(cents) -> str:
    """Integer cents as dollars: 2389 -> $23.89."""
    cents = int(cents or 0)
    return f"{'-' if cents < 0 else ''}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def duration(seconds) -> str:
    """A short elapsed time for a card: 45s, 12m, 1h05m, 2d3h."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h"


def since(value: datetime | None, now: datetime) -> str:
    return duration((now - value).total_seconds()) if value else ""



def store_zone(store) -> ZoneInfo:
    """The store's time zone; UTC for a store without one (or with a name tzdata lacks)."""
    try:
        return ZoneInfo(store.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# The card's promise turns amber in the last fifth of its limit, red past it; static/js/board.js
# (tickDue) recomputes the same from data-due / data-due-from as the clock runs.
SOON_SHARE = 0.2


def promise(order, now: datetime, store) -> dict | None:
    """The due time of the order's current limit, as its card counts down to it: None once
    the order is finished, has no limit running, or is already flagged overdue (its badge
    says how late)."""
    if order.state in TERMINAL or not order.deadline_at or order.overdue_level:
        return None
    left = (order.deadline_at - now).total_seconds()
    started = order.deadline_started_at or order.deadline_at
    span = max(0.0, (order.deadline_at - started).total_seconds())
    level = "late" if left < 0 else "soon" if left < SOON_SHARE * span else "ok"
    return {"limit": order.deadline_limit, "due_ms": epoch_ms(order.deadline_at), "from_ms": epoch_ms(started),
            "level": level, "text": f"{duration(abs(left))} {'late' if left < 0 else 'left'}",
            "clock": order.deadline_at.astimezone(store_zone(store)).strftime("%H:%M")}


def total_age(order, now: datetime) -> str:
    """Since the customer placed it: still running for an open order, how long it took for
    a finished one."""
    end = (order.finished_at or order.state_changed_at) if order.state in TERMINAL else now
    return since(order.created_at, end)


def promised_pickup(payload) -> datetime | None:
    """The pickup time the customer app told the customer (its `estimated_pickup_time`), as
    an aware datetime; None when it sent none (it is optional) or none that parses."""
    raw = payload.get("estimated_pickup_time") if isinstance(payload, dict) else None
    try:
        value = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    return value if value and value.tzinfo else None

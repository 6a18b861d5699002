"""What the board reads: columns of orders under the filters, failed calls, the attention
list. Cheap with thousands of open orders: one indexed id query per column, then full rows
(store and courier eager-loaded) only for the cards actually rendered."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, load_only

from ..infra import clock
from ..services import heartbeat
from ..extensions import db
from ..domain.labels import label
from ..domain.lifecycle import (CANCELLED, COMPLETED, CONFIRMED, FULFILLMENT_TYPES, IN_TRANSIT, READY, REJECTED,
                                SUBMITTED, TERMINAL)
from ..models import Courier, Order, OutboxMessage, Store
from .search import card_text, fold

# Terminal orders stay on the board this long after they finish.
RECENT = timedelta(hours=4)
# Cards rendered per column; the rest arrive with "show all" (keeps the page light).
CAP = 40


@dataclass(frozen=True)
class Column:
    key: str  # the data-state hook
    title: str
    states: tuple[str, ...]
    newest_first: bool = False  # terminal columns show the latest first; open ones the longest waiting


COLUMNS = (
    Column(SUBMITTED, label("state", SUBMITTED), (SUBMITTED,)),
    Column(CONFIRMED, label("state", CONFIRMED), (CONFIRMED,)),
    Column(READY, label("state", READY), (READY,)),
    Column(IN_TRANSIT, label("state", IN_TRANSIT), (IN_TRANSIT,)),
    Column(COMPLETED, label("state", COMPLETED), (COMPLETED,), newest_first=True),
    Column("exceptions", "Rejected · cancelled", (REJECTED, CANCELLED), newest_first=True),
)
COLUMN_OF_STATE = {state: column.key for column in COLUMNS for state in column.states}


@dataclass(frozen=True)
class Filters:
    """The board's filters, kept in the URL: ?store=&type=&overdue=1&q="""

    store: str = ""
    fulfillment: str = ""
    overdue: bool = False
    q: str = ""

    @classmethod
    def from_args(cls, args) -> Filters:
        fulfillment = args.get("type", "")
        return cls(
            store=args.get("store", "").strip()[:255],
            fulfillment=fulfillment if fulfillment in FULFILLMENT_TYPES else "",
            overdue=args.get("overdue") in ("1", "on", "true"),
            q=args.get("q", "").strip()[:255],
        )

    @property
    def active(self) -> bool:
        return bool(self.store or self.fulfillment or self.overdue or self.q)

    def as_args(self) -> dict:
        args = {"store": self.store, "type": self.fulfillment, "overdue": "1" if self.overdue else "", "q": self.q}
        return {k: v for k, v in args.items() if v}

    def where(self, stmt):
        if self.store:
            stmt = stmt.where(Order.store.has(Store.merchant_supplied_id == self.store))
        if self.fulfillment:
            stmt = stmt.where(Order.fulfillment_type == self.fulfillment)
        if self.overdue:
            stmt = stmt.where(Order.overdue_level > 0)
        return stmt  # the search (q) is applied by `matching`: SQL cannot fold accents alike everywhere

    def matching(self, rows) -> list[str]:
        """The ids of the rows (id, and with a search the customer's name) that the search
        finds, in their order."""
        if not self.q:
            return [row[0] for row in rows]
        q = fold(self.q)
        return [order_id for order_id, name in rows if q in card_text(order_id, name)]


@dataclass
class ColumnView:
    column: Column
    orders: list[Order] = field(default_factory=list)
    more_ids: list[str] = field(default_factory=list)  # matching orders not rendered (past CAP)

    @property
    def count(self) -> int:
        return len(self.orders) + len(self.more_ids)


def _column_ids(column: Column, filters: Filters, now) -> list[str]:
    # The customer's name only for a search: a board without one reads ids alone.
    stmt = select(Order.id, *([Order.customer_name] if filters.q else [])).where(Order.state.in_(column.states))
    if set(column.states) <= TERMINAL:
        stmt = stmt.where(Order.state_changed_at >= now - RECENT)
    order = (Order.state_changed_at.desc(), Order.id.desc()) if column.newest_first else (
        Order.state_changed_at, Order.id)
    return filters.matching(db.session.execute(filters.where(stmt).order_by(*order)))


# What a card shows: not the order's JSON payload, the costliest column to load. Every
# other column raises when a card touches it (load_orders): a column a card reads but this
# list forgot would otherwise be loaded by one query per card, 200 queries a board.
CARD_COLUMNS = (Order.id, Order.store_id, Order.state, Order.fulfillment_type, Order.customer_first_name,
                Order.customer_name, Order.item_count, Order.total, Order.courier_id, Order.courier_status,
                Order.version, Order.created_at, Order.state_changed_at, Order.finished_at,
                Order.deadline_limit, Order.deadline_started_at, Order.deadline_at, Order.overdue_limit,
                Order.overdue_level, Order.overdue_since, Order.acknowledged_at, Order.failure_reason,
                Order.cancel_reason, Order.cancelled_by)


def load_orders(ids: list[str]) -> dict[str, Order]:
    """The rows of these cards, with store and courier, in one query."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(Order).where(Order.id.in_(ids)).options(
            load_only(*CARD_COLUMNS, raiseload=True), joinedload(Order.store), joinedload(Order.courier))
    ).scalars()
    return {o.id: o for o in rows}


def board(filters: Filters, *, only: Optional[str] = None, everything: bool = False) -> list[ColumnView]:
    """The columns under `filters` (just column `only` when given), CAP cards each unless
    `everything`."""
    now = clock.now()
    columns = [c for c in COLUMNS if only in (None, c.key)]
    ids = {c.key: _column_ids(c, filters, now) for c in columns}
    shown = {key: (col_ids if everything else col_ids[:CAP]) for key, col_ids in ids.items()}
    rows = load_orders([i for col_ids in shown.values() for i in col_ids])
    return [ColumnView(c, [rows[i] for i in shown[c.key] if i in rows], ids[c.key][len(shown[c.key]):])
            for c in columns]


def failed_calls(order_ids) -> Counter:
    """Order id -> number of outbox messages that gave up."""
    order_ids = list(order_ids)
    if not order_ids:
        return Counter()
    rows = db.session.execute(
        select(OutboxMessage.order_id, func.count()).where(
            OutboxMessage.status == "failed", OutboxMessage.order_id.in_(order_ids))
        .group_by(OutboxMessage.order_id)
    )
    return Counter(dict(rows.all()))


ATTENTION_LIMIT = 30


def attention() -> dict:
    """Overdue open orders (longest late first), orders with failed calls or an inactive
    courier, and a stopped overdue tick: the exceptions a dispatcher must act on (or
    report), whatever the filters."""
    overdue_q = select(Order).where(Order.overdue_level > 0, Order.state.not_in(TERMINAL))
    overdue = db.session.execute(
        overdue_q.options(joinedload(Order.store)).order_by(Order.overdue_since, Order.id).limit(ATTENTION_LIMIT)
    ).scalars().all()
    overdue_count = db.session.execute(select(func.count()).select_from(overdue_q.subquery())).scalar_one()
    failed_q = (select(OutboxMessage.order_id, func.count().label("n"))
                .where(OutboxMessage.status == "failed", OutboxMessage.order_id.is_not(None))
                .group_by(OutboxMessage.order_id))
    failed = db.session.execute(failed_q.order_by(OutboxMessage.order_id).limit(ATTENTION_LIMIT)).all()
    failed_count = db.session.execute(select(func.count()).select_from(failed_q.subquery())).scalar_one()
    # Open orders still held by a deactivated courier: nobody may be coming for them.
    orphaned_q = (select(Order.id, Courier.name.label("courier_name")).join(Courier, Courier.id == Order.courier_id)
                  .where(Courier.is_active.is_(False), Order.state.not_in(TERMINAL)))
    orphaned = db.session.execute(orphaned_q.order_by(Order.state_changed_at, Order.id).limit(ATTENTION_LIMIT)).all()
    orphaned_count = db.session.execute(select(func.count()).select_from(orphaned_q.subquery())).scalar_one()
    # The overdue tick stopped (no scheduler running): none of the above is being kept up.
    scheduler = heartbeat.overdue_status()
    return {"overdue": overdue, "overdue_count": overdue_count, "failed": failed, "failed_count": failed_count,
            "orphaned": orphaned, "orphaned_count": orphaned_count,
            "scheduler_late": scheduler if scheduler.late else None}


def stores() -> list[Store]:
    return list(db.session.execute(select(Store).order_by(Store.name, Store.merchant_supplied_id)).scalars())


def detail(order_id: str) -> Optional[Order]:
    return db.session.execute(
        select(Order).where(Order.id == order_id).options(joinedload(Order.store), joinedload(Order.courier))
    ).scalar_one_or_none()


def failed_messages(order_id: str) -> list[OutboxMessage]:
    return list(db.session.execute(
        select(OutboxMessage).where(OutboxMessage.order_id == order_id, OutboxMessage.status == "failed")
        .order_by(OutboxMessage.id)).scalars())


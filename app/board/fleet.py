"""The active fleet as the board sees it: what each courier carries now, their load, how
long they have been idle, and whom to suggest for an order awaiting a courier. One read
for the courier panel, the detail's assign control and the bulk bar, so they never disagree."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlalchemy import func, select

from ..domain.lifecycle import TERMINAL
from ..extensions import db
from ..models import Courier, Order


@dataclass
class Carried:
    id: str
    state: str
    courier_status: Optional[str]


@dataclass
class CourierLoad:
    courier: Courier
    orders: list[Carried] = field(default_factory=list)
    last_ended: Optional[datetime] = None  # their last order's end (completed, cancelled…); None: never

    @property
    def load(self) -> int:
        return len(self.orders)

    @property
    def idle(self) -> bool:
        return not self.orders

    def idle_minutes(self, now: datetime) -> Optional[int]:
        """Whole minutes since their last order ended; None while busy or if they never had one."""
        if self.orders or self.last_ended is None:
            return None
        return max(0, int((now - self.last_ended).total_seconds() // 60))

    def summary(self, now: datetime) -> str:
        """"0 open, idle 12 min": what the assign controls say beside a name."""
        if self.orders:
            return f"{self.load} open"
        minutes = self.idle_minutes(now)
        return "0 open, no order yet" if minutes is None else f"0 open, idle {minutes} min"


def _rank(entry: CourierLoad):
    # Least loaded first; then the longest idle (one who never had an order before anyone
    # whose last order ended at some time); then by name, so the order is stable.
    ended = entry.last_ended.timestamp() if entry.last_ended else float("-inf")
    return (entry.load, ended, entry.courier.name.casefold(), entry.courier.id)


def loads() -> list[CourierLoad]:
    """Every active courier with their open orders and last ended order, best suggestion first.
    Three small queries, each by the partial courier index, whatever the number of orders."""
    couriers = db.session.execute(select(Courier).where(Courier.is_active.is_(True))).scalars().all()
    entries = {c.id: CourierLoad(c) for c in couriers}
    if not entries:
        return []
    carried = defaultdict(list)
    for row in db.session.execute(
            select(Order.id, Order.courier_id, Order.state, Order.courier_status)
            .where(Order.courier_id.in_(entries), Order.state.not_in(TERMINAL))
            .order_by(Order.state_changed_at, Order.id)):
        carried[row.courier_id].append(Carried(row.id, row.state, row.courier_status))
    ended = db.session.execute(
        select(Order.courier_id, func.max(Order.state_changed_at))
        .where(Order.courier_id.in_(entries), Order.state.in_(TERMINAL)).group_by(Order.courier_id)).all()
    for courier_id, at in ended:
        entries[courier_id].last_ended = at
    for courier_id, orders in carried.items():
        entries[courier_id].orders = orders
    return sorted(entries.values(), key=_rank)


def suggestion(fleet: list[CourierLoad]) -> Optional[CourierLoad]:
    """Whom to suggest for an order awaiting a courier: the first of `loads()`. The
    dispatcher still decides."""
    return fleet[0] if fleet else None

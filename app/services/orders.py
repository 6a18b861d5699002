"""Order services: the one path from every entry point (webhook, staff form, scheduler,
API) through the lifecycle to the audit trail, the outbox and the live board."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Optional

from flask import current_app
from sqlalchemy import insert, select
from sqlalchemy.orm import joinedload

from ..infra import clock, live
from . import effects
from ..infra.bulk import Writes
from ..extensions import db
from ..infra.config import time_limits
from ..domain.lifecycle import Change, Command, Forbidden, Lifecycle
from ..models import Order, OrderEvent


def lifecycle() -> Lifecycle:
    return Lifecycle(time_limits(current_app.config))


def get_for_update(order_id: str) -> Optional[Order]:
    """Load an order and lock its row (PostgreSQL), so concurrent events on one order
    apply one after the other. SQLite's BEGIN IMMEDIATE already serialises writers.
    Its store comes in the same query (the changed order's card shows it), unlocked: a
    lock on the store would queue every event of that store behind one another."""
    return db.session.execute(
        select(Order).where(Order.id == order_id)
        .options(joinedload(Order.store, innerjoin=True)).with_for_update(of=Order)
    ).scalar_one_or_none()


@dataclass
class Outcome:
    changes: list[Change] = field(default_factory=list)
    refused: Optional[str] = None  # why the rules forbade it

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def apply(order: Order, command: Command, *, actor: str, payload: Optional[dict] = None) -> Outcome:
    """Run one lifecycle command on a locked order and record what it did.

    Changes become audit rows, OneTablet calls and customer notifications (effects),
    and one live update. A refusal is audited too (under the command's event) and
    changes nothing else. The caller commits."""
    now = clock.now()
    try:
        changes = lifecycle().handle(order, command, now=now)
    except Forbidden as refusal:
        _audit(order, [_audit_values(order.id, command.event, order.state, order.state, actor, payload, now,
                                     refused=True, detail={"refused": str(refusal), **refusal.kept})])
        if refusal.kept:  # the restaurant's data it still recorded shows on the card
            live.order_changed(db.session, order)
        return Outcome(refused=str(refusal))
    _audit(order, [_audit_values(order.id, c.event, c.from_state, c.to_state, actor, payload, now,
                                 implied=c.implied, detail=c.detail) for c in changes])
    if changes:
        effects.after_changes(order, changes, actor=actor)
        live.order_changed(db.session, order)
    return Outcome(changes=changes)


def _audit(order: Order, rows: list[dict]) -> None:
    """Write the audit rows in the caller's transaction. Every webhook and action writes
    some and nothing reads them back as objects, so they go at once as one Core INSERT on
    the session's connection (the ORM's unit of work cost more than the rows). A new
    order's rows go with it in the commit's flush instead: it is not in the database yet,
    and a racing create of the same id must fail at commit, where the API expects it."""
    if order in db.session.new:
        db.session.add_all(OrderEvent(**row) for row in rows)
    elif rows:
        db.session.connection().execute(insert(OrderEvent.__table__), rows)


def _audit_values(order_id, event, from_state, to_state, actor, payload, now, *, implied=False,
                  refused=False, detail=None) -> dict:
    return {"order_id": order_id, "at": now, "actor": actor, "event": event, "from_state": from_state,
            "to_state": to_state, "implied": implied, "refused": refused, "detail": detail or None,
            "payload": payload}


# Orders per pair of statements in apply_to_rows: on PostgreSQL the server writes one
# chunk while the lifecycle runs over the next. The first chunk is smaller, so the server
# starts writing sooner.
FIRST_CHUNK, CHUNK = 100, 250


def apply_to_rows(rows, command: Command, *, actor: str, fields: tuple[str, ...]) -> int:
    """apply() for many orders at once, in set-based statements: for an action that touches
    only `fields` of an order (the overdue flags, a thousand in one scheduler tick).

    `rows` hold each order's id and every field the action reads or writes, read and
    locked by the caller; `fields` are the ones it writes. Each order goes through the
    lifecycle as an object holding just those (the rule stays in the lifecycle; reading
    any other field fails loudly); then, per chunk, one UPDATE writes `fields` back by
    primary key and one INSERT adds the audit rows (app/infra/bulk.py).
    Effects and the live push follow as in apply(). Returns how many orders changed.
    The caller commits."""
    now = clock.now()
    rules = lifecycle()
    changed_ids = []
    bounds = [0, *range(FIRST_CHUNK, len(rows), CHUNK), len(rows)]
    names = rows[0]._fields if rows else ()  # once: Row._asdict() rebuilds its keys per row
    with Writes(db.session) as writes:
        for start, end in zip(bounds, bounds[1:]):
            updates, audit = [], []
            for row in rows[start:end]:
                order = SimpleNamespace(**dict(zip(names, row)))
                before = vars(order).copy()
                changes = rules.handle(order, command, now=now)
                after = vars(order)
                if after.keys() != before.keys():
                    raise TypeError(f"{command} set fields not given to apply_to_rows: {after.keys() - before.keys()}")
                if after != before:
                    updates.append({"id": order.id, **{name: after[name] for name in fields}})
                if changes:
                    audit += [_audit_values(order.id, c.event, c.from_state, c.to_state, actor, None, now,
                                            implied=c.implied, detail=c.detail) for c in changes]
                    effects.after_changes(order, changes, actor=actor)
                    changed_ids.append(order.id)
            writes.update(Order.__table__, updates)
            writes.insert(OrderEvent.__table__, audit)
    live.orders_changed(db.session, changed_ids)
    return len(changed_ids)


def _iso(value):
    return value.isoformat() if value else None


def to_json(order: Order, *, timeline: bool = False) -> dict:
    """The order as the customer app and tests read it (contract §3.3)."""
    from ..models import OutboxMessage  # local: keeps this module's imports to the core

    failed = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.order_id == order.id, OutboxMessage.status == "failed")
        .order_by(OutboxMessage.id)
    ).scalars()
    body = {
        "id": order.id,
        "state": order.state,
        "version": order.version,
        "fulfillment_type": order.fulfillment_type,
        "store": order.store.merchant_supplied_id,
        "customer": order.customer_name,
        "item_count": order.item_count,
        "subtotal": order.subtotal,
        "tax": order.tax,
        "total": order.total,
        "merchant_supplied_id": order.merchant_supplied_id,
        "client_order_id": order.client_order_id,
        "prep_time": _iso(order.prep_time),
        "failure_reason": order.failure_reason,
        "cancel_reason": order.cancel_reason,
        "cancel_details": order.cancel_details,
        "courier": ({"id": order.courier.id, "name": order.courier.name, "phone": order.courier.phone}
                    if order.courier else None),
        "courier_status": order.courier_status,
        "overdue": order.overdue_limit,
        "overdue_level": order.overdue_level,
        "deadline": {"limit": order.deadline_limit, "at": _iso(order.deadline_at)} if order.deadline_at else None,
        "failed_calls": [
            {"id": m.id, "kind": m.kind, "attempts": m.attempts, "last_error": m.last_error,
             "last_status_code": m.last_status_code, "failed_at": _iso(m.failed_at)}
            for m in failed
        ],
        "created_at": _iso(order.created_at),
        "state_changed_at": _iso(order.state_changed_at),
    }
    if timeline:
        body["timeline"] = [
            {"at": _iso(e.at), "actor": e.actor, "event": e.event, "from_state": e.from_state,
             "to_state": e.to_state, "implied": e.implied, "refused": e.refused, "detail": e.detail,
             "payload": e.payload}
            for e in order.events
        ]
    return body

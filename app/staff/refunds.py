"""/refunds: money owed back to customers. A refund is opened automatically when an order
is rejected or cancelled (app/services/effects.py); a manager pays it in the payment system and
marks it processed here, which writes an audit row on the order.

Manager and up: paying money back is a money decision, and contract §3.4 gives dispatchers
the board and its actions only; managers already hold the comparable powers (overrides)."""
from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..infra import clock
from ..domain import labels
from ..services import orders
from ..auth import role_required
from ..extensions import db
from ..domain.lifecycle import RefundProcessed
from ..models import Order, Refund, Store
from .pages import respond, saved

bp = Blueprint("refunds", __name__, url_prefix="/refunds")

ROLE = "manager"
PAGE, FRAGMENT = "refunds/index.html", "refunds/_queue.html"
RECENT = 25  # processed refunds shown under the queue


class AlreadyProcessed(Exception):
    pass


def process(refund_id: int, *, actor: str) -> Refund:
    """Mark a pending refund processed (who, when) and audit it on its order.

    The order is locked first, as every order change does, so this cannot interleave
    with a webhook on the same order. The caller commits."""
    order_id = db.session.execute(select(Refund.order_id).where(Refund.id == refund_id)).scalar()
    if order_id is None:
        abort(404, description=f"No refund {refund_id}.")
    order = orders.get_for_update(order_id)
    refund = db.session.execute(
        select(Refund).where(Refund.id == refund_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if refund.status == "processed":
        raise AlreadyProcessed(f"Refund for order {order.id} was already processed by "
                               f"{labels.actor(refund.processed_by)} at {refund.processed_at:%Y-%m-%d %H:%M} UTC.")
    refund.status, refund.processed_at, refund.processed_by = "processed", clock.now(), actor

    orders.apply(order, RefundProcessed(amount=refund.amount), actor=actor,
                 payload={"refund_id": refund.id, "amount": refund.amount})
    return refund


# The columns the queue shows of each refund's order and store (not the order's JSON payload).
_SHOWN = joinedload(Refund.order).load_only(Order.id, Order.state, Order.customer_name, Order.store_id) \
    .joinedload(Order.store).load_only(Store.name)


def queue(**extra) -> dict:
    pending = db.session.execute(
        select(Refund).options(_SHOWN)
        .where(Refund.status == "pending").order_by(Refund.created_at, Refund.id)
    ).scalars().all()
    recent = db.session.execute(
        select(Refund).options(_SHOWN)
        .where(Refund.status == "processed").order_by(Refund.processed_at.desc(), Refund.id.desc())
        .limit(RECENT)
    ).scalars().all()
    processed_count = db.session.execute(
        select(func.count()).select_from(Refund).where(Refund.status == "processed")
    ).scalar_one()
    context = {
        "pending": pending,
        "recent": recent,
        "counts": {"pending": len(pending), "owed": sum(r.amount for r in pending),
                   "processed": processed_count},
        "notice": None,
        "error": None,
    }
    context.update(extra)
    return context


@bp.get("")
@role_required(ROLE)
def index():
    """Refunds waiting to be processed, and the last ones processed."""
    return respond(PAGE, FRAGMENT, **queue())


@bp.post("/<id:refund_id>/process")
@role_required(ROLE)
def mark_processed(refund_id):
    """Mark a refund processed: the money went back to the customer."""
    try:
        refund = process(refund_id, actor=current_user.actor)
    except AlreadyProcessed as error:
        db.session.rollback()
        return respond(PAGE, FRAGMENT, status=409, **queue(error=str(error)))
    return saved(f"Refund of order {refund.order_id} marked processed.", "refunds.index", FRAGMENT, queue)

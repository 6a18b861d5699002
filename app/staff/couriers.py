"""/couriers: the fleet. Add a courier, deactivate or reactivate one, and see who is
carrying what right now. A courier still carrying orders is deactivated only once the
dispatcher confirms a warning that names those orders."""
from __future__ import annotations

from collections import defaultdict

from flask import Blueprint, abort, request
from sqlalchemy import select

from ..auth import role_required
from ..infra import ids, live
from ..extensions import db
from ..domain.lifecycle import TERMINAL
from ..models import Courier, Order, Store
from ..services import courier_links
from ..services import couriers as fleet_rules
from .pages import respond, saved

bp = Blueprint("couriers", __name__, url_prefix="/couriers")

PAGE, FRAGMENT = "couriers/index.html", "couriers/_fleet.html"


def carrying(courier_ids) -> dict[int, list]:
    """Each courier's open orders (not rejected, completed or cancelled), oldest change first:
    only the columns shown, never the orders' JSON payloads."""
    if not courier_ids:
        return {}
    rows = db.session.execute(
        select(Order.id, Order.courier_id, Order.state, Order.courier_status, Order.customer_first_name,
               Store.name.label("store_name"))
        .join(Store, Store.id == Order.store_id)
        .where(Order.courier_id.in_(courier_ids), Order.state.not_in(TERMINAL))
        .order_by(Order.state_changed_at)
    )
    by_courier = defaultdict(list)
    for order in rows:
        by_courier[order.courier_id].append(order)
    return by_courier


def fleet(**extra) -> dict:
    """Everything the fleet section shows: active couriers first, then inactive ones."""
    couriers = db.session.execute(
        select(Courier).order_by(Courier.is_active.desc(), Courier.name, Courier.id)
    ).scalars().all()
    loads = carrying([c.id for c in couriers])
    active = [c for c in couriers if c.is_active]
    context = {
        "couriers": couriers,
        "loads": loads,
        "counts": {
            "active": len(active),
            "busy": sum(1 for c in active if loads.get(c.id)),
            "free": sum(1 for c in active if not loads.get(c.id)),
            "orders": sum(len(orders) for orders in loads.values()),
        },
        "values": {},
        "errors": {},
        "warning": None,
        "notice": None,
        # Where the user acted: a courier's id or "add". The message is shown there and
        # takes the focus (static/js/app.js), not at the top of a long list.
        "at": None,
    }
    context.update(extra)
    return context


def _locked(courier_id: int) -> Courier:
    courier = db.session.execute(
        select(Courier).where(Courier.id == courier_id).with_for_update()
    ).scalar_one_or_none()
    if courier is None:
        abort(404, description=f"No courier {courier_id}.")
    return courier


def _saved(message: str, at):
    return saved(message, "couriers.index", FRAGMENT, lambda **kw: fleet(at=at, **kw))


@bp.get("")
@role_required("dispatcher")
def index():
    """The fleet and who is carrying what (`at`: the row to put the focus back on)."""
    return respond(PAGE, FRAGMENT, **fleet(at=ids.parse(request.args.get("at"))))


@bp.post("")
@role_required("dispatcher")
def add():
    """Add a courier to the fleet (active at once)."""
    values, errors = fleet_rules.check_new(request.form.get("name", ""), request.form.get("phone", ""))
    if errors:
        return respond(PAGE, FRAGMENT, status=422, **fleet(values=values, errors=errors, at="add"))
    fleet_rules.add(values)
    return _saved(f"Added {values['name']}.", "add")


@bp.post("/<id:courier_id>/deactivate")
@role_required("dispatcher")
def deactivate(courier_id):
    """Take a courier off the fleet; one still carrying orders needs `confirm=yes`."""
    courier = _locked(courier_id)
    if not courier.is_active:
        db.session.rollback()
        return _saved(f"{courier.name} was already inactive.", courier.id)
    open_orders = carrying([courier.id]).get(courier.id, [])
    if open_orders and request.form.get("confirm") != "yes":
        db.session.rollback()
        return respond(PAGE, FRAGMENT, status=409,
                       **fleet(warning={"courier": courier, "orders": open_orders}, at=courier.id))
    courier.is_active = False
    courier_links.revoke(courier)  # contract §3.5: their phone link stops working with them
    live.changed(db.session, "courier", courier)  # boards mark its orders and list them to reassign
    note = f" They still carry {len(open_orders)} order(s) until reassigned." if open_orders else ""
    return _saved(f"Deactivated {courier.name}.{note}", courier.id)


@bp.post("/<id:courier_id>/reactivate")
@role_required("dispatcher")
def reactivate(courier_id):
    """Put a courier back on the fleet."""
    courier = _locked(courier_id)
    courier.is_active = True
    live.changed(db.session, "courier", courier)
    return _saved(f"{courier.name} is active again.", courier.id)


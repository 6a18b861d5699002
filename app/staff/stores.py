"""/stores: every store Passline knows, paused or open, its 86'd items and its menu.

Pausing and 86-ing come from OneTablet's webhooks (app/services/store_updates.py); this page shows them.
A store is known once OneTablet has pushed its menu or status, or an admin added it here
(contract §3.3), so an admin can add one before OneTablet speaks of it."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from itertools import groupby
from zoneinfo import available_timezones

from flask import Blueprint, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..infra import clock, live
from ..services import store_updates as store_services
from ..auth import role_required
from ..extensions import db
from ..models import MenuItem, Store
from .pages import respond, saved

bp = Blueprint("stores", __name__, url_prefix="/stores")

PAGE, FRAGMENT = "stores/index.html", "stores/_list.html"


@cache
def timezones() -> frozenset[str]:
    return frozenset(available_timezones())


@dataclass
class StoreView:
    """A store as the page shows it: its menu grouped by category, its 86'd items."""

    store: Store
    menu: list[tuple[str, list[MenuItem]]] = field(default_factory=list)
    eighty_sixed: list[MenuItem] = field(default_factory=list)
    on_menu: int = 0
    off_menu: int = 0

    @classmethod
    def of(cls, store: Store) -> "StoreView":
        on_menu = [i for i in store.items if i.on_menu]
        return cls(
            store=store,
            menu=[(name, list(items)) for name, items in groupby(on_menu, key=lambda i: i.category)],
            eighty_sixed=[i for i in on_menu if not i.is_available],
            on_menu=len(on_menu),
            off_menu=len(store.items) - len(on_menu),
        )


def validate(form) -> tuple[dict, dict]:
    values = {k: form.get(k, "").strip() for k in ("merchant_supplied_id", "name", "timezone")}
    errors = {}
    if not values["merchant_supplied_id"]:
        errors["merchant_supplied_id"] = "Enter the id OneTablet knows the store by."
    elif len(values["merchant_supplied_id"]) > 255 or any(c.isspace() for c in values["merchant_supplied_id"]):
        errors["merchant_supplied_id"] = "An id is up to 255 characters, without spaces."
    elif store_services.get(values["merchant_supplied_id"]) is not None:
        errors["merchant_supplied_id"] = "A store with this id is already known."
    if not values["name"]:
        errors["name"] = "Enter the store's name."
    elif len(values["name"]) > 255:
        errors["name"] = "A name is at most 255 characters."
    if values["timezone"] not in timezones():
        errors["timezone"] = "Choose an IANA time zone, e.g. America/New_York."
    return values, errors


def listing(**extra) -> dict:
    stores = db.session.execute(
        select(Store).options(selectinload(Store.items)).order_by(Store.name, Store.merchant_supplied_id)
    ).scalars().all()
    views = [StoreView.of(s) for s in stores]
    context = {
        "stores": views,
        "counts": {"stores": len(views), "paused": sum(1 for v in views if not v.store.is_active),
                   "eighty_sixed": sum(len(v.eighty_sixed) for v in views)},
        "now": clock.now(),
        "can_add": current_user.can("admin"),
        "timezones": sorted(timezones()) if current_user.can("admin") else [],
        "values": {"timezone": "America/New_York"},
        "errors": {},
        "notice": None,
    }
    context.update(extra)
    return context


@bp.get("")
@role_required("dispatcher")
def index():
    """Every store: paused or open, 86'd items, menu."""
    return respond(PAGE, FRAGMENT, **listing())


@bp.post("")
@role_required("admin")
def add():
    """Add a store by hand, before OneTablet has pushed anything about it."""
    values, errors = validate(request.form)
    if not errors:
        try:
            with db.session.begin_nested():
                store = Store(**values, is_active=True)
                db.session.add(store)
        except IntegrityError:  # added at the same instant by someone else
            errors["merchant_supplied_id"] = "A store with this id is already known."
    if errors:
        db.session.rollback()
        return respond(PAGE, FRAGMENT, status=422, **listing(values=values, errors=errors))
    live.changed(db.session, "store", store)
    return saved(f"Added store {values['name']} ({values['merchant_supplied_id']}).", "stores.index",
                 FRAGMENT, listing)

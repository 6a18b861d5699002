"""A new order from the customer app (contract §3.3): the checks it must pass (the store
known and open, every item on its menu and not 86'd), and the order Passline keeps, handed
to the lifecycle as `Submit`. The API view parses and answers; the rules live here."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from . import orders, store_updates
from ..extensions import db
from ..domain.lifecycle import Submit
from ..models import Order, Store

ACTOR = "customer_app"


class Refused(Exception):
    """The order cannot be taken; nothing was stored. `field` names what to fix."""

    def __init__(self, status: int, error: str, detail: str, field: str, message: str):
        super().__init__(detail)
        self.status, self.error, self.detail, self.field, self.message = status, error, detail, field, message


def submit(new, data: dict, digest: str) -> Order:
    """Store the order as submitted (its POST /orders to OneTablet queued); the caller
    commits. `new` is the validated order (api/schemas.NewOrder), `data` the body as
    sent: OneTablet gets it whole."""
    store = _orderable_store(new)
    order = Order(
        id=new.id,
        store=store,
        store_id=store.id,
        fulfillment_type=new.fulfillment_type,
        payload=data,
        payload_hash=digest,
        customer_first_name=new.consumer.first_name,
        customer_name=" ".join(p for p in (new.consumer.first_name, new.consumer.last_name) if p),
        item_count=sum(item.quantity for _, item in new.items()),
        subtotal=new.subtotal,
        tax=new.tax,
        total=total(new),
    )
    db.session.add(order)
    orders.apply(order, Submit(), actor=ACTOR, payload=data)
    return order


def total(new) -> int:
    """What the customer pays, in cents: the items, tax, tip and fees."""
    return new.subtotal + new.tax + sum(v or 0 for v in (new.tip, new.delivery_fee, new.service_fee))


def _orderable_store(new) -> Store:
    ref = new.store.merchant_supplied_id
    store = store_updates.get(ref)
    if store is None:
        raise Refused(422, "unknown_store", f"no store with merchant_supplied_id {ref!r}",
                      "store.merchant_supplied_id", "unknown store")
    if not store.is_active:
        why = f": {store.pause_reason}" if store.pause_reason else ""
        raise Refused(409, "store_paused", f"store {ref!r} is paused{why}",
                      "store.merchant_supplied_id", "store is paused")
    menu = {item.merchant_supplied_id: item for item in store.items if item.on_menu}
    for path, item in new.items():
        known = menu.get(item.merchant_supplied_id)
        field = f"{path}.merchant_supplied_id"
        if known is None:
            raise Refused(422, "unknown_item", f"{field}: {item.merchant_supplied_id!r} is not on the menu",
                          field, "not on the store's menu")
        if not known.is_available:
            raise Refused(409, "item_unavailable", f"{field}: {known.name or item.merchant_supplied_id!r} is 86'd",
                          field, "item is unavailable (86'd)")
    # The order may fill in a time zone Passline does not know yet, never overwrite one:
    # an admin's choice outlives whatever the customer app says.
    if not store.timezone_set and new.store.timezone and _valid_timezone(new.store.timezone):
        store.timezone = new.store.timezone
    return store


def _valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
        return True
    except Exception:  # noqa: BLE001 - ZoneInfo raises several kinds for a bad name
        return False

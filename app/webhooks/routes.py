"""The six webhooks of OneTablet's guide (contract §3.1), under /onetablet: each names its
schema and the lifecycle command (or store update) it becomes; intake.py does the rest."""
from __future__ import annotations

from flask import Blueprint

from ..domain.lifecycle import Cancel, Confirm, Ready, Reject
from ..services import store_updates
from . import schemas
from .intake import ACTOR, Refusal, answer, handle, order_event
from .paths import CANCELLATION_PATH, READY_PATH

bp = Blueprint("webhooks", __name__, url_prefix="/onetablet")


# --- orders ---------------------------------------------------------------------------

@bp.patch("/orders/<order_id:order_id>")
def order_confirmation(order_id):
    """Restaurant accepted (success) or rejected (fail) the order."""

    def apply(received, body: schemas.OrderConfirmation):
        if body.order_status == "success":
            return order_event(received, Confirm(merchant_supplied_id=body.merchant_supplied_id,
                                                  prep_time=body.prep_time, sent_at=received.sent_at))
        return order_event(received, Reject(merchant_supplied_id=body.merchant_supplied_id,
                                             reason=body.failure_reason))

    return handle("order_confirmation", schemas.OrderConfirmation, apply, order_id=order_id)


@bp.patch("/orders/<order_id:order_id>" + READY_PATH)
def order_ready(order_id):
    """Restaurant marked the order ready."""

    def apply(received, body: schemas.OrderReady):
        return order_event(received, Ready(merchant_supplied_id=body.merchant_supplied_id))

    return handle("order_ready", schemas.OrderReady, apply, order_id=order_id)


@bp.patch("/orders/<order_id:order_id>" + CANCELLATION_PATH)
def order_cancellation(order_id):
    """Restaurant cancelled the order."""

    def apply(received, body: schemas.OrderCancellation):
        return order_event(received, Cancel(reason=body.cancel_reason, details=body.cancel_details, by=ACTOR))

    return handle("order_cancellation", schemas.OrderCancellation, apply, order_id=order_id)


# --- stores ---------------------------------------------------------------------------

@bp.patch("/stores/<store_ref>/status")
def store_status(store_ref):
    """Pause or resume a store."""

    def apply(received, body: schemas.StoreStatus):
        store = store_updates.get_or_create(store_ref)
        if received.claim(by_content=False) is not None:
            return answer(received, 200, "duplicate", None, "already received; applied once")
        if not store_updates.set_status(store, is_active=body.is_active, reason=body.reason,
                                 resume_at=body.resume_at, sent_at=received.sent_at):
            return answer(received, 200, "duplicate", None, "older than the status already applied")
        return answer(received, 200, "applied", None, "open" if body.is_active else "paused")

    return handle("store_status", schemas.StoreStatus, apply, store_ref=store_ref)


@bp.patch("/stores/<store_ref>/items")
def store_items(store_ref):
    """86 items, or bring them back."""

    def apply(received, body: schemas.StoreItems):
        store = store_updates.get(store_ref, lock=True)
        if store is None:
            raise Refusal(404, "unknown_store", f"no store with merchant_supplied_id {store_ref!r}")
        if received.claim(by_content=False) is not None:
            return answer(received, 200, "duplicate", None, "already received; applied once")
        wanted = {i.merchant_supplied_id: i.is_available for i in body.items}
        off_menu = sorted(wanted.keys() - {item.merchant_supplied_id for item in store.items if item.on_menu})
        changed = store_updates.set_availability(store, wanted, sent_at=received.sent_at)
        detail = f"{len(changed)} item(s) changed"
        if off_menu:
            detail += f"; not on this store's menu, kept for when it is: {', '.join(off_menu[:20])}"
        return answer(received, 200, "applied" if changed else "duplicate", None, detail)

    return handle("store_items", schemas.StoreItems, apply, store_ref=store_ref)


@bp.put("/stores/<store_ref>/menu")
def store_menu(store_ref):
    """Replace the store's menu."""

    def apply(received, body: schemas.StoreMenu):
        store = store_updates.get_or_create(store_ref)
        if received.claim(by_content=False) is not None:
            return answer(received, 200, "duplicate", None, "already received; applied once")
        if not store_updates.replace_menu(store, body.categories, sent_at=received.sent_at):
            return answer(received, 200, "duplicate", None, "older than the menu already applied")
        return answer(received, 200, "applied", None, "menu replaced")

    return handle("store_menu", schemas.StoreMenu, apply, store_ref=store_ref)

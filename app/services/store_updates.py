"""Store services: pause and resume, 86 items, replace the menu. Webhooks and staff pages
call these; each keeps its own "as of" time so a status that arrives late cannot undo a
newer one."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..infra import live
from ..extensions import db
from ..models import MenuItem, Store


def get(merchant_supplied_id: str, *, lock: bool = False) -> Optional[Store]:
    query = select(Store).where(Store.merchant_supplied_id == merchant_supplied_id)
    if lock:
        query = query.with_for_update()
    return db.session.execute(query).scalar_one_or_none()


def get_or_create(merchant_supplied_id: str) -> Store:
    """A store becomes known when OneTablet first speaks of it (contract §3.3)."""
    store = get(merchant_supplied_id, lock=True)
    if store is not None:
        return store
    try:
        with db.session.begin_nested():
            store = Store(merchant_supplied_id=merchant_supplied_id, name=merchant_supplied_id)
            db.session.add(store)
        return store
    except IntegrityError:  # created at the same instant by another request
        return get(merchant_supplied_id, lock=True)


def _newer(as_of: Optional[datetime], sent_at: datetime) -> bool:
    return as_of is None or sent_at >= as_of


def set_status(store: Store, *, is_active: bool, reason, resume_at, sent_at: datetime) -> bool:
    """Pause or resume; False when a newer status was already applied."""
    if not _newer(store.status_as_of, sent_at):
        return False
    store.is_active = is_active
    store.pause_reason = None if is_active else reason
    store.resume_at = None if is_active else resume_at
    store.status_as_of = sent_at
    live.changed(db.session, "store", store)
    return True


def set_availability(store: Store, changes: dict[str, bool], *, sent_at: datetime) -> list[str]:
    """86 items or bring them back; returns the ids that changed.

    An item not on the store's menu (none pushed yet, or the restaurant's menu is ahead of
    ours) is remembered off the menu with its availability: orders cannot name it, and the
    menu push that brings it keeps the 86. The known items of the same call apply anyway:
    an 86 is the kitchen saying it cannot cook something, never to be dropped."""
    known = {item.merchant_supplied_id for item in store.items}
    for merchant_supplied_id in changes.keys() - known:
        store.items.append(MenuItem(merchant_supplied_id=merchant_supplied_id, on_menu=False, is_available=True))
    changed = []
    for item in store.items:
        if item.merchant_supplied_id in changes and _newer(item.availability_as_of, sent_at):
            if item.is_available != changes[item.merchant_supplied_id]:
                changed.append(item.merchant_supplied_id)
            item.is_available = changes[item.merchant_supplied_id]
            item.availability_as_of = sent_at
    if changed:
        live.changed(db.session, "store", store)
    return changed


def replace_menu(store: Store, categories: list, *, sent_at: datetime) -> bool:
    """Replace the menu. An item that stays keeps its 86 status; one that leaves is kept
    off-menu (old orders still name it) and can no longer be ordered."""
    if not _newer(store.menu_as_of, sent_at):
        return False
    existing = {item.merchant_supplied_id: item for item in store.items}
    position = 0
    for category in categories:
        for entry in category.items:
            item = existing.pop(entry.merchant_supplied_id, None)
            if item is None:
                item = MenuItem(merchant_supplied_id=entry.merchant_supplied_id, is_available=True)
                store.items.append(item)
            item.name, item.price, item.category = entry.name, entry.price, category.name
            item.position, item.on_menu = position, True
            position += 1
    for item in existing.values():
        item.on_menu = False
    store.menu_as_of = sent_at
    live.changed(db.session, "store", store)
    return True

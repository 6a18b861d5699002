"""The report's filters, read from the query string (so a report is a shareable URL),
and the store-local day windows they stand for.

A date range means store-local days: for each store the window runs from local midnight
of `from` to local midnight after `to`, converted to UTC per store (DST included), so an
order at 23:30 in New York counts on its New York day even though it is the next UTC day.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from ..infra import clock, ids
from ..extensions import db
from ..domain.lifecycle import FULFILLMENT_TYPES
from ..models import Courier, Store
from ..infra.validation import YEARS

DEFAULT_DAYS = 7
MAX_DAYS = 366  # a year at most: a report is a window, not the whole history


def zone(name: Optional[str]) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass
class Filters:
    start: date
    end: date  # inclusive
    store: Optional[Store] = None
    fulfillment: Optional[str] = None
    courier: Optional[Courier] = None
    stores: list[Store] = field(default_factory=list)  # the stores in scope
    errors: list[str] = field(default_factory=list)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def query_args(self) -> dict[str, str]:
        """The filters as URL parameters (the CSV link and the form's values)."""
        args = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.store is not None:
            args["store"] = self.store.merchant_supplied_id
        if self.fulfillment:
            args["fulfillment"] = self.fulfillment
        if self.courier is not None:
            args["courier"] = str(self.courier.id)
        return args

    def windows(self) -> list[tuple[ZoneInfo, list[int], datetime, datetime]]:
        """(zone, store ids, UTC start, UTC end) for each timezone among the stores in scope."""
        by_zone: dict[str, list[int]] = {}
        for store in self.stores:
            by_zone.setdefault(zone(store.timezone).key, []).append(store.id)
        out = []
        for name, store_ids in sorted(by_zone.items()):
            tz = zone(name)
            start = datetime.combine(self.start, time(), tz).astimezone(timezone.utc)
            end = datetime.combine(self.end + timedelta(days=1), time(), tz).astimezone(timezone.utc)
            out.append((tz, store_ids, start, end))
        return out


def _parse_date(raw: str, label: str, errors: list[str]) -> Optional[date]:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors.append(f"“{raw}” is not a date for {label}: use YYYY-MM-DD, e.g. 2026-11-28.")
        return None
    if not YEARS[0] <= day.year <= YEARS[1]:  # past them a day's window would overflow
        errors.append(f"“{raw}” is out of range for {label}: a year from {YEARS[0]} to {YEARS[1]}.")
        return None
    return day


def _today(stores: list[Store]) -> date:
    """Today where the report's (first) store is: the default range ends there."""
    return clock.now().astimezone(zone(stores[0].timezone if stores else None)).date()


def all_stores() -> list[Store]:
    return list(db.session.execute(select(Store).order_by(Store.name, Store.id)).scalars())


def parse(args) -> Filters:
    """Filters from request args; problems are collected in `errors`, never raised."""
    errors: list[str] = []
    stores_known = all_stores()

    store = None
    store_ref = (args.get("store") or "").strip()
    if store_ref:
        store = next((s for s in stores_known if s.merchant_supplied_id == store_ref), None)
        if store is None:
            errors.append(f"Unknown store “{store_ref}”.")
    stores = [store] if store is not None else ([] if store_ref else stores_known)

    today = _today(stores or stores_known)
    end = _parse_date(args["to"], "“to”", errors) if args.get("to") else today
    start = _parse_date(args["from"], "“from”", errors) if args.get("from") else None
    end = end or today
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        errors.append(f"“from” ({start}) is after “to” ({end}).")
        start = end
    elif (end - start).days + 1 > MAX_DAYS:
        errors.append(f"A report covers at most {MAX_DAYS} days; this range has {(end - start).days + 1}.")
        start = end - timedelta(days=MAX_DAYS - 1)

    fulfillment = (args.get("fulfillment") or "").strip() or None
    if fulfillment and fulfillment not in FULFILLMENT_TYPES:
        errors.append(f"Unknown fulfillment type “{fulfillment}”: one of {', '.join(FULFILLMENT_TYPES)}.")
        fulfillment = None

    courier = None
    courier_ref = (args.get("courier") or "").strip()
    if courier_ref:
        courier_id = ids.parse(courier_ref)
        courier = db.session.get(Courier, courier_id) if courier_id else None
        if courier is None:
            errors.append(f"Unknown courier “{courier_ref}”.")

    return Filters(start=start, end=end, store=store, fulfillment=fulfillment, courier=courier,
                   stores=stores, errors=errors)

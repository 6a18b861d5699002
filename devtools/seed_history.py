"""`flask --app wsgi seed-history --orders N --days D`: realistic finished orders, with
their audit rows, for report demos and benchmarks.

Stores in several timezones, a fleet of couriers, lunch and dinner peaks in each store's
local time, a mix of completed, rejected and cancelled orders (by the restaurant or by
staff, with reasons), step times drawn around the guide's timings with a tail that runs
late, and the overdue rows the scheduler would have written. Rows go in by bulk: COPY on
PostgreSQL, executemany in large transactions on SQLite, so a million orders take
minutes, not hours.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterator, Optional
from zoneinfo import ZoneInfo

import click
from flask import current_app
from sqlalchemy import select

from app.infra import clock
from app.extensions import db
from app.domain.lifecycle import TimeLimits
from app.models import Courier, Store
from app.infra.config import time_limits

STORES = [  # merchant id, name, timezone, share of orders
    ("hist-nyc", "Brooklyn Burgers", "America/New_York", 5),
    ("hist-chi", "Chicago Deep Dish", "America/Chicago", 3),
    ("hist-den", "Denver Tacos", "America/Denver", 2),
    ("hist-lax", "LA Poke Bar", "America/Los_Angeles", 4),
    ("hist-lon", "London Curry House", "Europe/London", 3),
    ("hist-ber", "Berlin Döner", "Europe/Berlin", 2),
    ("hist-tyo", "Tokyo Ramen", "Asia/Tokyo", 2),
    ("hist-syd", "Sydney Fish & Chips", "Australia/Sydney", 1),
]
FIRST = ["Ann", "Bob", "Carla", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kofi", "Lena",
         "Mo", "Nia", "Omar", "Pia", "Quinn", "Raj", "Sara", "Tom"]
LAST = ["Lee", "Ray", "Diaz", "Patel", "Kim", "Haddad", "Berg", "Sato", "Novak", "Moss"]
REJECTIONS = ["Store is currently closed", "Item unavailable", "Too busy right now", "Address out of range"]
CANCEL_REASONS = ["ITEM_OUT_OF_STOCK", "STORE_CLOSED", "KITCHEN_BUSY", "OTHER"]
STAFF = ["staff:dana", "staff:lee", "staff:sam"]
# Local hour of day weights: quiet mornings, lunch and dinner peaks.
HOUR_WEIGHTS = [1, 0, 0, 0, 0, 0, 1, 2, 3, 4, 6, 12, 16, 12, 7, 5, 7, 12, 18, 17, 12, 7, 4, 2]
CHUNK = 20_000  # orders per transaction

ORDER_COLUMNS = (
    "id", "store_id", "state", "fulfillment_type", "payload_hash", "customer_first_name",
    "customer_name", "item_count", "subtotal", "tax", "total", "merchant_supplied_id", "prep_time",
    "failure_reason", "cancel_reason", "cancelled_by", "courier_id", "courier_status", "version",
    "created_at", "state_changed_at", "confirmed_at", "ready_at", "in_transit_at", "finished_at",
    "overdue_level",
)
PAYLOAD_COLUMNS = ("order_id", "payload")
EVENT_COLUMNS = ("order_id", "at", "actor", "event", "from_state", "to_state", "implied", "refused", "detail")


@dataclass
class Fleet:
    stores: list[tuple[int, ZoneInfo, int]]  # id, zone, weight
    couriers: list[tuple[int, str]]  # id, name


def _fleet(courier_count: int) -> Fleet:
    """The seeded stores and couriers, created once and reused by later runs."""
    stores = []
    for ref, name, tz, weight in STORES:
        store = db.session.execute(select(Store).where(Store.merchant_supplied_id == ref)).scalar_one_or_none()
        if store is None:
            store = Store(merchant_supplied_id=ref, name=name, timezone=tz)
            db.session.add(store)
            db.session.flush()
        stores.append((store.id, ZoneInfo(store.timezone), weight))
    names = [f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}" for i in range(courier_count)]
    known = dict(db.session.execute(select(Courier.name, Courier.id).where(Courier.name.in_(names))).all())
    for name in names:
        if name not in known:
            courier = Courier(name=name, phone="+1555" + str(abs(hash(name)) % 10_000_000).zfill(7))
            db.session.add(courier)
            db.session.flush()
            known[name] = courier.id
    db.session.commit()
    return Fleet(stores, [(known[n], n) for n in names])


class History:
    """Draws one realistic finished order at a time, with its audit rows."""

    def __init__(self, fleet: Fleet, limits: TimeLimits, days: int, end: datetime, seed: int):
        self.fleet, self.limits, self.days, self.end = fleet, limits, days, end
        self.rng = random.Random(seed)
        self.store_weights = [w for _, _, w in fleet.stores]
        self.run = f"h{seed:x}{int(time.time()) % 1_000_000:x}"

    def _minutes(self, median: float, spread: float) -> timedelta:
        return timedelta(minutes=self.rng.lognormvariate(0, spread) * median)

    def _created(self, tz: ZoneInfo, days_back: int) -> datetime:
        rng = self.rng
        local_day = (self.end.astimezone(tz) - timedelta(days=days_back)).date()
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        local = datetime(local_day.year, local_day.month, local_day.day, hour, rng.randrange(60),
                         rng.randrange(60), tzinfo=tz)
        return min(local.astimezone(timezone.utc), self.end - timedelta(hours=3))

    def orders(self, count: int) -> Iterator[tuple[dict, list[tuple]]]:
        """Day by day, oldest first, as history happened: the indexes on time then grow
        at their end, which keeps a bulk load of millions of rows fast."""
        for i in range(count):
            yield self._one(f"{self.run}-{i:07d}", self.days - 1 - i * self.days // count)

    def _one(self, oid: str, days_back: int):
        rng, lim = self.rng, self.limits
        store_id, tz, _ = rng.choices(self.fleet.stores, self.store_weights)[0]
        kind = rng.choices(("pickup", "dx_delivery", "mx_fleet_delivery"), (30, 45, 25))[0]
        delivery = kind != "pickup"
        created = self._created(tz, days_back)
        o = dict(id=oid, store_id=store_id, fulfillment_type=kind, created_at=created, prep_time=None,
                 confirmed_at=None, ready_at=None, in_transit_at=None, finished_at=None, courier_id=None,
                 courier_status=None, failure_reason=None, cancel_reason=None, cancelled_by=None)
        events = [(created, "customer_app", "submitted", None, "submitted", None)]
        fate = rng.random()
        confirm_at = created + self._minutes(1.8, 0.7)

        if fate < 0.04:  # rejected by the restaurant
            events += self._overdue("confirmation", "submitted", created, lim.confirmation, confirm_at)
            o.update(failure_reason=rng.choice(REJECTIONS))
            return self._finish(o, events, "rejected", confirm_at, "onetablet", "rejected", "submitted",
                                {"failure_reason": o["failure_reason"]})
        if fate < 0.05:  # cancelled by staff before the restaurant answered
            end = created + self._minutes(4, 0.5)
            events += self._overdue("confirmation", "submitted", created, lim.confirmation, end)
            return self._cancel(o, events, end, "submitted", rng.choice(STAFF))

        events += self._overdue("confirmation", "submitted", created, lim.confirmation, confirm_at)
        o["confirmed_at"] = confirm_at
        promised = rng.choice((10, 15, 15, 20, 20, 25, 30))
        o["prep_time"] = confirm_at + timedelta(minutes=promised)
        events.append((confirm_at, "onetablet", "confirmed", "submitted", "confirmed",
                       '{"prep_time": [null, "%s"]}' % o["prep_time"].isoformat()))
        ready = confirm_at + self._minutes(promised * 0.95, 0.25)
        if fate < 0.09:  # cancelled while cooking, by the restaurant or by staff
            end = confirm_at + (ready - confirm_at) * rng.random()
            who = "onetablet" if rng.random() < 0.6 else rng.choice(STAFF)
            return self._cancel(o, events, end, "confirmed", who)

        prep_deadline = max(o["prep_time"], confirm_at) + lim.preparation_grace
        events += self._overdue("preparation", "confirmed", confirm_at, prep_deadline - confirm_at, ready)
        o["ready_at"] = ready
        events.append((ready, "onetablet", "ready", "confirmed", "ready", None))
        if not delivery:
            picked = ready + self._minutes(7, 0.8)
            events += self._overdue("customer_pickup", "ready", ready, lim.customer_pickup, picked)
            return self._finish(o, events, "completed", picked, rng.choice(STAFF), "picked_up", "ready", None)

        courier_id, name = rng.choice(self.fleet.couriers)
        o.update(courier_id=courier_id, courier_status="dropoff")
        assigned = min(ready, confirm_at + timedelta(minutes=promised / 2))
        events.append((assigned, rng.choice(STAFF), "courier_assigned", "confirmed", "confirmed",
                       {"courier": [None, name], "courier_status": [None, "dasher_confirmed"]}))
        left = ready + self._minutes(6, 0.6)
        events += self._overdue("courier_pickup", "ready", ready, lim.courier_pickup, left)
        o["in_transit_at"] = left
        events.append((left, "staff:dispatch", "courier_status", "ready", "in_transit",
                       {"courier_status": ["arrived_at_store", "dasher_out_for_delivery"]}))
        dropped = left + self._minutes(24, 0.35)
        events += self._overdue("delivery", "in_transit", left, lim.delivery, dropped)
        return self._finish(o, events, "completed", dropped, "staff:dispatch", "courier_status", "in_transit",
                            {"courier_status": ["dasher_out_for_delivery", "dropoff"]})

    def _overdue(self, limit: str, state: str, start: datetime, allowed: timedelta, done: datetime) -> list:
        """The scheduler's rows for a step that ran past its limit (and past twice it)."""
        rows = []
        for level, event in ((1, "overdue"), (2, "overdue_escalated")):
            at = start + allowed * level
            if done > at:
                rows.append((at, "scheduler", event, state, state, {"limit": limit, "overdue_level": [level - 1, level]}))
        return rows

    def _cancel(self, o, events, at, state, who):
        reason = self.rng.choice(CANCEL_REASONS)
        o.update(cancel_reason=reason, cancelled_by=who)
        return self._finish(o, events, "cancelled", at, who, "cancelled", state,
                            {"cancel_reason": reason, "cancelled_by": who})

    @staticmethod
    def _finish(o, events, state, at, actor, event, from_state, detail):
        o.update(state=state, finished_at=at)
        events.append((at, actor, event, from_state, state, detail))
        return o, events


def _payload(o: dict) -> str:
    # Formatted, not json.dumps'd: a million of these must be cheap (ids are plain ASCII).
    return ('{"id": "%s", "store": {"merchant_supplied_id": "%s"}, "is_pickup": %s, "fulfillment_type": "%s", '
            '"subtotal": 2100, "tax": 189, "consumer": {"first_name": "Sam", "last_name": "Seed"}}'
            % (o["id"], o["store_id"], "true" if o["fulfillment_type"] == "pickup" else "false",
               o["fulfillment_type"]))


def _order_row(o: dict, versions: int, stamp) -> tuple:
    return (o["id"], o["store_id"], o["state"], o["fulfillment_type"], "seeded", "Sam", "Sam Seed",
            3, 2100, 189, 2289, "R-" + o["id"], stamp(o["prep_time"]), o["failure_reason"], o["cancel_reason"],
            o["cancelled_by"], o["courier_id"], o["courier_status"], versions, stamp(o["created_at"]),
            stamp(o["finished_at"]), stamp(o["confirmed_at"]), stamp(o["ready_at"]), stamp(o["in_transit_at"]),
            stamp(o["finished_at"]), 0)


def _event_rows(oid: str, events: list, stamp) -> list[tuple]:
    return [(oid, stamp(at), actor, event, before, after, False, False, _json(detail))
            for at, actor, event, before, after, detail in events]


_JSON_CACHE: dict[str, str] = {}


def _json(detail: Optional[dict]) -> Optional[str]:
    """json.dumps, remembered: most audit details repeat (overdue levels, courier statuses)."""
    if not detail or isinstance(detail, str):
        return detail or None
    key = repr(detail)
    if key not in _JSON_CACHE:
        if len(_JSON_CACHE) > 10_000:
            _JSON_CACHE.clear()
        _JSON_CACHE[key] = json.dumps(detail)
    return _JSON_CACHE[key]


def _sqlite_stamp(value: Optional[datetime]) -> Optional[str]:
    """The text SQLAlchemy's SQLite DateTime stores: naive UTC, always six decimals."""
    # Every value here is already UTC: isoformat is several times cheaper than strftime.
    return None if value is None else value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _pg_stamp(value: Optional[datetime]) -> Optional[datetime]:
    return None if value is None else value.replace(tzinfo=None)


def _write(raw, dialect: str, orders: list[tuple], payloads: list[tuple], events: list[tuple]) -> None:
    cursor = raw.cursor()
    tables = (("orders", ORDER_COLUMNS, orders), ("order_payloads", PAYLOAD_COLUMNS, payloads),
              ("order_events", EVENT_COLUMNS, events))
    if dialect == "postgresql":
        for table, columns, rows in tables:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        for table, columns, rows in tables:
            marks = ", ".join("?" * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    raw.commit()


def seed_history(orders: int, days: int, *, couriers: int = 60, seed: int = 1,
                 end: Optional[datetime] = None) -> tuple[int, int]:
    """Insert `orders` finished orders over the last `days` days; returns (orders, audit rows)."""
    if orders < 0 or days < 1:
        raise ValueError("orders must be >= 0 and days >= 1")
    fleet = _fleet(couriers)
    history = History(fleet, time_limits(current_app.config), days, end or clock.now(), seed)
    dialect = db.engine.dialect.name
    stamp = _pg_stamp if dialect == "postgresql" else _sqlite_stamp
    raw = db.engine.raw_connection()
    written_events = 0
    try:
        if dialect == "sqlite":
            raw.driver_connection.isolation_level = ""  # let sqlite3 open the bulk transactions
            # A bulk load: no fsync per chunk and one checkpoint at the end (in _analyze).
            raw.driver_connection.execute("PRAGMA synchronous=OFF")
            raw.driver_connection.execute("PRAGMA wal_autocheckpoint=0")
            raw.driver_connection.execute("PRAGMA cache_size=-262144")  # 256 MiB for the indexes
        order_rows, payload_rows, event_rows = [], [], []
        for o, events in history.orders(orders):
            order_rows.append(_order_row(o, len(events), stamp))
            payload_rows.append((o["id"], _payload(o)))
            event_rows.extend(_event_rows(o["id"], events, stamp))
            if len(order_rows) == CHUNK:
                _write(raw, dialect, order_rows, payload_rows, event_rows)
                written_events += len(event_rows)
                order_rows, payload_rows, event_rows = [], [], []
        if order_rows:
            _write(raw, dialect, order_rows, payload_rows, event_rows)
            written_events += len(event_rows)
    finally:
        if dialect == "sqlite":
            raw.driver_connection.isolation_level = None
            raw.driver_connection.execute("PRAGMA synchronous=NORMAL")
            raw.driver_connection.execute("PRAGMA wal_autocheckpoint=1000")
            raw.driver_connection.execute("PRAGMA cache_size=-2000")
        raw.close()
    _analyze(dialect)
    return orders, written_events


def _analyze(dialect: str) -> None:
    """Fresh planner statistics, so the report's first run picks its indexes."""
    db.session.remove()  # nothing of ours may hold the database open meanwhile
    raw = db.engine.raw_connection()  # outside SQLAlchemy's transactions: VACUUM needs none
    try:
        driver = raw.driver_connection
        if dialect == "postgresql":
            driver.autocommit = True
            driver.execute("VACUUM (ANALYZE) orders, order_events")
        else:
            driver.execute("ANALYZE")
            # Readers then find the rows in the database file, not in a huge WAL.
            driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        if dialect == "postgresql":
            raw.driver_connection.autocommit = False  # back to the pool as it came
        raw.close()


def register(app) -> None:
    @app.cli.command("seed-history")
    @click.option("--orders", type=click.IntRange(min=0), default=10_000, show_default=True)
    @click.option("--days", type=click.IntRange(min=1), default=30, show_default=True)
    @click.option("--couriers", type=click.IntRange(min=1), default=60, show_default=True)
    @click.option("--seed", type=int, default=1, show_default=True, help="the random seed (same seed, same history)")
    def seed_history_command(orders, days, couriers, seed):
        """Fill the database with realistic finished orders and their audit trail."""
        started = time.monotonic()
        made, events = seed_history(orders, days, couriers=couriers, seed=seed)
        click.echo(f"seeded {made} finished orders ({events} audit rows) over {days} days "
                   f"in {time.monotonic() - started:.1f} s")

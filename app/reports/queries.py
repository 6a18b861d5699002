"""The report's SQL: every figure is an aggregate computed in the database.

`base()` selects one row per order in the filtered window (store-local days, see
filters.py) with its timestamps as epoch seconds, rounded to the second the same way on
SQLite and PostgreSQL, and its store-local time. `Report` writes those rows once into a
temporary table; `measures()` and `checks()` are the step durations and the guide's limits
as integer expressions over it, and every section aggregates it.

Percentiles are the continuous (interpolated) kind on both databases: with the n values
of a group sorted, the p-th percentile sits at position 1 + (n-1)·p, interpolating
linearly between the two neighbouring values. PostgreSQL computes it with
`percentile_cont(p) WITHIN GROUP (ORDER BY v)`; SQLite, which has no such aggregate,
counts the orders per distinct value, takes running sums over those with
`SUM(k) OVER (PARTITION BY group ORDER BY v)`, picks the two values around the position
and interpolates, all in SQL: no row reaches Python.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import (BigInteger, Column, Integer, MetaData, Table, Text, and_, case, cast, extract, func, insert,
                        literal_column, or_, select, text)

from ..extensions import db
from ..domain.lifecycle import DELIVERY_TYPES
from ..infra.config import time_limits
from ..models import OVERDUE_EVENTS, Order, OrderEvent
from .filters import Filters

PERCENTILES = (50, 90)
HISTOGRAM_BUCKET_S = 300  # end-to-end distribution in 5-minute buckets
HISTOGRAM_LAST = 24  # the last bucket holds everything from 2 hours on


@dataclass(frozen=True)
class Guide:
    """The guide's timings, in seconds, from the OVERDUE_* settings (contract §2)."""

    confirmation: float
    preparation: float  # when the restaurant gave no prep_time
    preparation_grace: float
    courier_pickup: float
    customer_pickup: float
    delivery: float

    @classmethod
    def from_config(cls, config) -> "Guide":
        limits = time_limits(config)
        return cls(*(getattr(limits, name).total_seconds() for name in (
            "confirmation", "preparation", "preparation_grace", "courier_pickup", "customer_pickup", "delivery")))


@dataclass(frozen=True)
class Stat:
    """One measure over one group: count, median, p90, max (seconds), and how many
    were within the guide's timing (None where the step has no guide)."""

    n: int
    p50: Optional[float]
    p90: Optional[float]
    max: Optional[float]
    within: Optional[int]

    @property
    def share_within(self) -> Optional[float]:
        return None if not self.n or self.within is None else self.within / self.n


def _dialect() -> str:
    return db.engine.dialect.name


def _epoch(column):
    """Seconds since 1970 of a stored (naive UTC) timestamp, rounded to the second.
    On SQLite through julianday(), ten times cheaper than strftime('%s')."""
    if _dialect() == "postgresql":
        return cast(func.round(extract("epoch", column)), BigInteger)
    return cast(func.round((func.julianday(column) - 2440587.5) * 86400.0), Integer)


def _offset_at(tz: ZoneInfo, epoch: int) -> int:
    return int(datetime.fromtimestamp(epoch, timezone.utc).astimezone(tz).utcoffset().total_seconds())


def offset_segments(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[Optional[datetime], int]]:
    """The zone's UTC offset over [start, end) as (until, offset seconds) pieces, the last
    with until=None: DST changes inside a range move the local hour and day exactly."""
    lo_edge, hi_edge = int(start.timestamp()), int(end.timestamp())
    segments: list[tuple[Optional[datetime], int]] = []
    current = _offset_at(tz, lo_edge)
    t = lo_edge
    while t < hi_edge:
        nxt = min(t + 6 * 3600, hi_edge)
        if _offset_at(tz, nxt) != current:
            lo, hi = t, nxt  # bisect to the first second with the new offset
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if _offset_at(tz, mid) == current else (lo, mid)
            segments.append((datetime.fromtimestamp(hi, timezone.utc), current))
            current = _offset_at(tz, hi)
        t = nxt
    segments.append((None, current))
    return segments


def _window_and_offset(filters: Filters):
    """The WHERE clause (store-local days, per timezone) and the UTC offset of each order."""
    windows, whens = [], []
    for tz, ids, start, end in filters.windows():
        in_zone = Order.store_id.in_(ids)
        windows.append(and_(in_zone, Order.created_at >= start, Order.created_at < end))
        for until, offset in offset_segments(tz, start, end):
            cond = in_zone if until is None else and_(in_zone, Order.created_at < until)
            whens.append((cond, offset))
    offset = case(*whens, else_=0) if whens else literal_column("0")
    return (or_(*windows) if windows else literal_column("1 = 0")), offset


def base(filters: Filters):
    """One row per order in the report: its attributes, its timestamps as epoch seconds
    and its store-local time. Each timestamp is converted once, here: the sections then
    do integer arithmetic only."""
    window, offset = _window_and_offset(filters)
    created = _epoch(Order.created_at)
    flag = lambda cond: case((cond, 1), else_=0)  # noqa: E731
    rows = select(
        Order.id, Order.store_id, Order.courier_id, Order.state, Order.failure_reason,
        Order.cancel_reason,
        case((Order.cancelled_by == "onetablet", "restaurant"),
             (Order.cancelled_by.like("staff:%"), "staff"),
             else_=func.coalesce(Order.cancelled_by, "unknown")).label("cancelled_by"),
        flag(Order.fulfillment_type.in_(sorted(DELIVERY_TYPES))).label("is_delivery"),
        flag(Order.state == "completed").label("is_completed"),
        flag(Order.state == "rejected").label("is_rejected"),
        flag(Order.state == "cancelled").label("is_cancelled"),
        created.label("created"),
        _epoch(Order.confirmed_at).label("confirmed"),
        _epoch(Order.ready_at).label("ready"),
        _epoch(Order.in_transit_at).label("in_transit"),
        _epoch(Order.finished_at).label("finished"),
        _epoch(Order.prep_time).label("promised"),
        (created + offset).label("local"),
    ).where(window)
    if filters.fulfillment:
        rows = rows.where(Order.fulfillment_type == filters.fulfillment)
    if filters.courier is not None:
        rows = rows.where(Order.courier_id == filters.courier.id)
    return rows


TEXT_COLUMNS = ("id", "state", "failure_reason", "cancel_reason", "cancelled_by")


def measures(c) -> dict[str, Any]:
    """Each step's duration in seconds (NULL where the order did not go through it)."""
    completed = c.is_completed == 1
    return {
        "confirm": c.confirmed - c.created,
        "preparation": c.ready - c.confirmed,
        "lateness": c.ready - c.promised,  # against the restaurant's prep_time; < 0: early
        "courier_pickup": case((c.is_delivery == 1, c.in_transit - c.ready)),
        "customer_pickup": case((and_(c.is_delivery == 0, completed), c.finished - c.ready)),
        "delivery": case((completed, c.finished - c.in_transit)),
        "end_to_end": case((completed, c.finished - c.created)),
    }


def checks(c, guide: Guide) -> dict[str, Any]:
    """For each measure, 1 within the guide's timing, 0 past it, NULL without a value;
    None where the guide sets no limit."""
    m = measures(c)

    def at_most(value, limit):
        return case((value.is_(None), None), (value <= limit, 1), else_=0)

    # The preparation deadline as the lifecycle sets it (contract §2).
    deadline = case((c.promised.is_(None), c.confirmed + guide.preparation),
                    (c.promised > c.confirmed, c.promised + guide.preparation_grace),
                    else_=c.confirmed + guide.preparation_grace)
    return {
        "confirm": at_most(m["confirm"], guide.confirmation),
        "preparation": case((m["preparation"].is_(None), None), (c.ready <= deadline, 1), else_=0),
        "lateness": at_most(m["lateness"], 0),
        "courier_pickup": at_most(m["courier_pickup"], guide.courier_pickup),
        "customer_pickup": at_most(m["customer_pickup"], guide.customer_pickup),
        "delivery": at_most(m["delivery"], guide.delivery),
        "end_to_end": None,
    }


class Report:
    """The queries of one report: filters and guide fixed, one method per section.

    Used as a context manager: the filtered orders are computed once into a temporary
    table (one pass over the orders' index), which every section then aggregates."""

    def __init__(self, filters: Filters, guide: Guide):
        self.filters, self.guide = filters, guide
        self.query = base(filters)
        names = [c.name for c in self.query.selected_columns]
        self.stamps = Table("report_rows", MetaData(), *[
            Column(name, Text if name in TEXT_COLUMNS else BigInteger) for name in names
        ], prefixes=["TEMPORARY"])
        c = self.stamps.c
        self.measures = measures(c)
        self.within = checks(c, guide)
        self.groups = {"local_day": c.local // 86400, "local_hour": (c.local % 86400) // 3600,
                       "store_id": c.store_id, "courier_id": c.courier_id}

    def __enter__(self) -> "Report":
        connection = db.session.connection()
        if _dialect() == "postgresql":
            # Sorts for the percentiles and hashes over the report's rows stay in memory.
            connection.execute(text("SET LOCAL work_mem = '64MB'"))
        connection.execute(text("DROP TABLE IF EXISTS report_rows"))
        self.stamps.create(connection)
        connection.execute(insert(self.stamps).from_select(list(self.stamps.c.keys()), self.query))
        if _dialect() == "postgresql":
            # Without statistics the planner guesses a few thousand rows and probes the
            # audit trail once per order instead of hashing the few overdue rows.
            connection.execute(text("ANALYZE report_rows (id)"))  # the row count and the join key
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:  # after an error the rollback discards the table with the rest
            db.session.connection().execute(text("DROP TABLE IF EXISTS report_rows"))

    def _run(self, stmt) -> list[Any]:
        return list(db.session.execute(stmt))

    # --- plain counts -------------------------------------------------------------

    def by_state(self) -> dict[str, int]:
        c = self.stamps.c
        return dict(self._run(select(c.state, func.count()).group_by(c.state)))

    def rejections(self) -> list[tuple[str, int]]:
        c = self.stamps.c
        reason = func.coalesce(c.failure_reason, "(none given)")
        stmt = (select(reason, func.count()).where(c.state == "rejected")
                .group_by(reason).order_by(func.count().desc(), reason))
        return [tuple(r) for r in self._run(stmt)]

    def cancellations(self) -> list[tuple[str, str, int]]:
        c = self.stamps.c
        reason = func.coalesce(c.cancel_reason, "(none given)")
        stmt = (select(c.cancelled_by, reason, func.count()).where(c.state == "cancelled")
                .group_by(c.cancelled_by, reason).order_by(c.cancelled_by, func.count().desc(), reason))
        return [tuple(r) for r in self._run(stmt)]

    def end_to_end_histogram(self) -> dict[int, int]:
        end_to_end = self.measures["end_to_end"]
        bucket = case((end_to_end >= HISTOGRAM_LAST * HISTOGRAM_BUCKET_S, HISTOGRAM_LAST),
                      else_=end_to_end // HISTOGRAM_BUCKET_S)
        stmt = select(bucket, func.count()).where(end_to_end.is_not(None)).group_by(bucket)
        return {int(b): n for b, n in self._run(stmt)}

    def overdue(self) -> dict[str, tuple[int, int, int]]:
        """Per limit: overdue flags, escalations, orders affected (from the audit rows)."""
        limit = OrderEvent.detail["limit"].as_string()
        earliest = min((w[2] for w in self.filters.windows()), default=None)
        if earliest is None:
            return {}
        is_first = case((OrderEvent.event == "overdue", 1), else_=0)
        order_id = OrderEvent.order_id
        if _dialect() == "sqlite":
            # A unary + keeps SQLite from probing each order's trail by order_id: it then
            # reads the few overdue rows through their partial index instead.
            order_id = literal_column("+order_events.order_id")
        stmt = (select(limit, func.sum(is_first), func.sum(1 - is_first),
                       func.count(OrderEvent.order_id.distinct()))
                .where(text(f"order_events.{OVERDUE_EVENTS}"),  # as written in the partial index
                       OrderEvent.at >= earliest,  # audit rows come after the order's creation
                       # A semi-join: the few overdue rows are found first, by their index.
                       order_id.in_(select(self.stamps.c.id)))
                .group_by(limit))
        return {name: (int(a), int(b), int(n)) for name, a, b, n in self._run(stmt)}

    # --- timings: count, median, p90, max, within the guide ------------------------

    def stats(self, measures: list[str], group: Optional[str] = None,
              sums: tuple[str, ...] = ()) -> dict[Any, dict[str, Any]]:
        """{group value: {"orders": n, <sum>: n, <measure>: Stat}} (key None when ungrouped)."""
        build = self._stats_postgresql if _dialect() == "postgresql" else self._stats_sqlite
        merged: dict[Any, dict[str, Any]] = {}
        for stmt in build(measures, group, sums):
            for row in db.session.execute(stmt).mappings():
                row = dict(row)
                for m in measures:  # PostgreSQL answers an array of percentiles per measure
                    if f"{m}_percentiles" in row:
                        values = row.pop(f"{m}_percentiles") or [None] * len(PERCENTILES)
                        row.update({f"{m}_p{p}": value for p, value in zip(PERCENTILES, values)})
                merged.setdefault(row["g"] if group else None, {}).update(row)
        out = {}
        for key, row in merged.items():
            entry = {"orders": row["orders"], **{s: int(row[s] or 0) for s in sums}}
            for m in measures:
                within = row.get(f"{m}_within")
                entry[m] = Stat(n=int(row.get(f"{m}_n") or 0), p50=_num(row.get(f"{m}_p50")),
                                p90=_num(row.get(f"{m}_p90")), max=_num(row.get(f"{m}_max")),
                                within=None if self.within[m] is None else int(within or 0))
            out[key] = entry
        return out

    def _counts(self, group, sums):
        c = self.stamps.c
        g = self.groups[group] if group else literal_column("NULL")
        stmt = (select(g.label("g"), func.count().label("orders"), *[func.sum(c[s]).label(s) for s in sums])
                .select_from(self.stamps))  # ungrouped, SQLite would otherwise count one row of nothing
        return stmt.group_by(g) if group else stmt

    def _stats_postgresql(self, measures, group, sums):
        """One statement: counts and percentile_cont for every measure."""
        cols = []
        for m in measures:
            v = self.measures[m]
            within = func.sum(self.within[m]) if self.within[m] is not None else literal_column("NULL")
            cols += [func.count(v).label(f"{m}_n"), func.max(v).label(f"{m}_max"), within.label(f"{m}_within")]
            # Both percentiles from one sort: percentile_cont(ARRAY[...]) answers an array.
            fractions = ", ".join(f"{p / 100}" for p in PERCENTILES)
            cols.append(func.percentile_cont(literal_column(f"ARRAY[{fractions}]")).within_group(v)
                        .label(f"{m}_percentiles"))
        return [self._counts(group, sums).add_columns(*cols)]

    def _stats_sqlite(self, measures, group, sums):
        """The counts, then one statement per measure. Each first counts the orders per
        distinct value (durations are whole seconds: a few thousand values, however many
        orders), then runs a window sum over those to find where each position falls:
        the value at position q is the smallest whose running count reaches q."""
        statements = [self._counts(group, sums)]
        for m in measures:
            g = self.groups[group] if group else literal_column("NULL")
            v = self.measures[m]
            ok = func.sum(self.within[m]) if self.within[m] is not None else literal_column("NULL")
            counted = select(g.label("g"), v.label("v"), func.count().label("k"), ok.label("ok"))
            counted = counted.where(v.is_not(None))
            counted = counted.group_by(g, v) if group else counted.group_by(v)
            counted = counted.subquery("counted")
            partition = [counted.c.g] if group else None
            # Both windows share one PARTITION BY / ORDER BY, so SQLite sorts once for both.
            over = dict(partition_by=partition, order_by=counted.c.v)
            cum = select(counted.c.g, counted.c.v, counted.c.ok,
                         func.sum(counted.c.k).over(**over, rows=(None, 0)).label("upto"),
                         func.sum(counted.c.k).over(**over, rows=(None, None)).label("n")).subquery("cum")
            cols = [cum.c.g, func.max(cum.c.n).label(f"{m}_n"), func.max(cum.c.v).label(f"{m}_max"),
                    func.sum(cum.c.ok).label(f"{m}_within")]
            for p in PERCENTILES:
                position = (cum.c.n - 1) * p  # 100 × the 0-based position: integers, no float noise
                lower = position // 100 + 1
                upper = lower + case((position % 100 > 0, 1), else_=0)
                v_lower = func.min(case((cum.c.upto >= lower, cum.c.v)))
                v_upper = func.min(case((cum.c.upto >= upper, cum.c.v)))
                fraction = func.max(position % 100) / 100.0
                cols.append((v_lower + (v_upper - v_lower) * fraction).label(f"{m}_p{p}"))
            stmt = select(*cols)
            statements.append(stmt.group_by(cum.c.g) if group else stmt)
        return statements


def _num(value) -> Optional[float]:
    return None if value is None else float(value)


def day_of(number: int):
    """The local date of a day number (days since 1970-01-01)."""
    return (datetime(1970, 1, 1) + timedelta(days=int(number))).date()

"""The report as tables: what the page shows, what its charts plot and what the CSV holds.

Each table keeps raw values (seconds, shares, counts) and formats them in one place,
`Table.cells()`, which the page and the CSV both read: the CSV is exactly the rows shown.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from sqlalchemy import select

from ..domain import labels
from ..extensions import db
from ..domain.lifecycle import LIMITS, STATES
from ..models import Courier
from .filters import Filters
from .queries import HISTOGRAM_BUCKET_S, HISTOGRAM_LAST, Guide, Report, Stat, day_of

MINUTES, PERCENT, COUNT, TEXT = "minutes", "percent", "count", "text"
# Columns of Passline's codes read as words, on the page and in the CSV alike (labels.py).
STATE, LIMIT, CANCEL_REASON = "state", "limit", "cancel_reason"


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = TEXT


@dataclass(frozen=True)
class Series:
    """One dataset of a chart: a column, drawn as bars or a line, on the left or right axis."""

    column: int
    type: str = "bar"
    axis: str = "y"


@dataclass(frozen=True)
class Chart:
    type: str  # bar | line | doughnut
    series: tuple[Series, ...]
    horizontal: bool = False
    by_state: bool = False  # rows are order states: each slice takes its state's colour


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    chart: Optional[Chart] = None
    note: str = ""

    def cells(self) -> list[list[str]]:
        return [[format_value(col.kind, value) for col, value in zip(self.columns, row)] for row in self.rows]

    def chart_data(self) -> Optional[dict]:
        """Chart.js data: labels from the first column, one dataset per series."""
        if self.chart is None:
            return None
        datasets = []
        for s in self.chart.series:
            col = self.columns[s.column]
            # kind: static/js/reports.js ticks an axis of counts in whole numbers.
            datasets.append({"label": col.label, "type": s.type, "yAxisID": s.axis, "kind": col.kind,
                             "data": [plot_value(col.kind, row[s.column]) for row in self.rows]})
        spec = {"type": self.chart.type, "horizontal": self.chart.horizontal,
                "labels": [row[0] for row in self.cells()], "datasets": datasets}
        if self.chart.by_state:
            spec["states"] = [row[0] for row in self.rows]
        return spec


def format_value(kind: str, value: Any) -> str:
    """How a figure reads, on the page and in the CSV alike (empty: no value)."""
    if value is None:
        return ""
    if kind == MINUTES:
        return f"{value / 60:.1f}"
    if kind == PERCENT:
        return f"{value * 100:.1f}%"
    if kind == COUNT:
        return str(int(value))
    if kind in (STATE, LIMIT, CANCEL_REASON):
        return labels.label(kind, value)
    return str(value)


def plot_value(kind: str, value: Any) -> Optional[float]:
    if value is None:
        return None
    if kind == MINUTES:
        return round(value / 60, 1)
    if kind == PERCENT:
        return round(value * 100, 1)
    return value


def _share(part: int, whole: int) -> Optional[float]:
    return part / whole if whole else None


def _minutes(limit_s: float) -> str:
    return f"{limit_s / 60:g}"


def steps(guide: Guide) -> list[tuple[str, str, str, str]]:
    """(measure, step, from → to, the guide's timing) for each step of an order."""
    return [
        ("confirm", "Time to confirm", "submitted → confirmed", f"≤ {_minutes(guide.confirmation)} min"),
        ("preparation", "Preparation", "confirmed → ready",
         f"by prep_time + {_minutes(guide.preparation_grace)} min "
         f"(≤ {_minutes(guide.preparation)} min without prep_time)"),
        ("lateness", "Ready vs promised prep_time", "prep_time → ready (negative: early)", "by prep_time"),
        ("courier_pickup", "Courier pickup wait", "ready → in transit (delivery)",
         f"≤ {_minutes(guide.courier_pickup)} min"),
        ("customer_pickup", "Customer pickup wait", "ready → picked up (pickup)",
         f"≤ {_minutes(guide.customer_pickup)} min"),
        ("delivery", "Delivery", "in transit → completed", f"≤ {_minutes(guide.delivery)} min"),
        ("end_to_end", "End to end", "submitted → completed", ""),
    ]


def build(filters: Filters, guide: Guide) -> list[Table]:
    with Report(filters, guide) as report:
        states = report.by_state()
        total = sum(states.values())
        return [
            _summary(states, total),
            _states(states, total),
            _steps(report, guide),
            _distribution(report),
            _days(report, filters),
            _hours(report),
            _stores(report, filters),
            _couriers(report),
            _overdue(report),
            *_reasons(report, total),
        ]


def _summary(states: dict[str, int], total: int) -> Table:
    return Table("summary", "Summary", [
        Column("Orders", COUNT), Column("Completed", COUNT),
        Column("Rejection rate", PERCENT), Column("Cancellation rate", PERCENT)],
        [[total, states.get("completed", 0),
          _share(states.get("rejected", 0), total), _share(states.get("cancelled", 0), total)]])


def _states(states: dict[str, int], total: int) -> Table:
    rows = [[s, states.get(s, 0), _share(states.get(s, 0), total)] for s in STATES]
    return Table("states", "Orders by state now",
                 [Column("State", STATE), Column("Orders", COUNT), Column("Share of orders", PERCENT)], rows,
                 chart=Chart("doughnut", (Series(1),), by_state=True),
                 note="States other than completed, rejected and cancelled are orders still open.")


def _stat_columns(prefix: str = "") -> list[Column]:
    return [Column(f"{prefix}Orders", COUNT), Column(f"{prefix}Median (min)", MINUTES),
            Column(f"{prefix}p90 (min)", MINUTES), Column(f"{prefix}Max (min)", MINUTES)]


def _stat_values(stat: Stat) -> list[Any]:
    return [stat.n, stat.p50, stat.p90, stat.max]


def _steps(report: Report, guide: Guide) -> Table:
    measures = [m for m, *_ in steps(guide)]
    overall = report.stats(measures).get(None)
    rows = []
    for measure, step, span, timing in steps(guide):
        stat = overall[measure] if overall else Stat(0, None, None, None, None)
        rows.append([step, span, *_stat_values(stat), timing, stat.share_within])
    return Table("steps", "Where the minutes go: each step", [
        Column("Step"), Column("From → to"), *_stat_columns(),
        Column("Guide"), Column("Within guide", PERCENT)], rows,
        chart=Chart("bar", (Series(3), Series(4)), horizontal=True),
        note="Medians and p90 are interpolated percentiles (PostgreSQL's percentile_cont).")


def _distribution(report: Report) -> Table:
    counts = report.end_to_end_histogram()
    last = max(counts, default=-1)
    rows = []
    for bucket in range(last + 1):
        low = bucket * HISTOGRAM_BUCKET_S // 60
        label = f"≥ {low} min" if bucket == HISTOGRAM_LAST else f"{low}–{low + HISTOGRAM_BUCKET_S // 60} min"
        rows.append([label, counts.get(bucket, 0)])
    return Table("distribution", "End to end, distribution (completed orders)",
                 [Column("Submitted → completed"), Column("Orders", COUNT)], rows,
                 chart=Chart("bar", (Series(1),)))


def _days(report: Report, filters: Filters) -> Table:
    stats = report.stats(["confirm", "end_to_end"], group="local_day",
                         sums=("is_completed", "is_rejected", "is_cancelled"))
    by_date = {day_of(k): v for k, v in stats.items()}
    rows = []
    for day in filters.days:
        entry = by_date.get(day)
        if entry is None:
            rows.append([day.isoformat(), 0, 0, 0, 0, None, None, None])
            continue
        rows.append([day.isoformat(), entry["orders"], entry["is_completed"], entry["is_rejected"],
                     entry["is_cancelled"], entry["confirm"].p50, entry["confirm"].share_within,
                     entry["end_to_end"].p50])
    return Table("days", "By day (store-local)", [
        Column("Day"), Column("Orders", COUNT), Column("Completed", COUNT), Column("Rejected", COUNT),
        Column("Cancelled", COUNT), Column("Median to confirm (min)", MINUTES),
        Column("Confirmed within guide", PERCENT), Column("Median end to end (min)", MINUTES)], rows,
        chart=Chart("bar", (Series(1), Series(7, "line", "y2"))))


def _hours(report: Report) -> Table:
    stats = report.stats(["confirm", "end_to_end"], group="local_hour", sums=("is_completed",))
    rows = []
    for hour in range(24):
        entry = stats.get(hour)
        if entry is None:
            rows.append([f"{hour:02d}:00", 0, 0, None, None, None])
            continue
        rows.append([f"{hour:02d}:00", entry["orders"], entry["is_completed"], entry["confirm"].p50,
                     entry["confirm"].share_within, entry["end_to_end"].p50])
    return Table("hours", "By hour of day (store-local, when submitted)", [
        Column("Hour"), Column("Orders", COUNT), Column("Completed", COUNT),
        Column("Median to confirm (min)", MINUTES), Column("Confirmed within guide", PERCENT),
        Column("Median end to end (min)", MINUTES)], rows,
        chart=Chart("bar", (Series(1), Series(5, "line", "y2"))))


def _stores(report: Report, filters: Filters) -> Table:
    stats = report.stats(["confirm", "preparation", "lateness", "end_to_end"], group="store_id",
                         sums=("is_completed", "is_rejected", "is_cancelled"))
    rows = []
    for store in filters.stores:
        entry = stats.get(store.id)
        if entry is None:
            rows.append([store.name or store.merchant_supplied_id, store.timezone, 0, 0, None, None,
                         None, None, None, None])
            continue
        n = entry["orders"]
        rows.append([store.name or store.merchant_supplied_id, store.timezone, n, entry["is_completed"],
                     _share(entry["is_rejected"], n), _share(entry["is_cancelled"], n),
                     entry["confirm"].p50, entry["preparation"].p50, entry["lateness"].share_within,
                     entry["end_to_end"].p50])
    return Table("stores", "By store", [
        Column("Store"), Column("Timezone"), Column("Orders", COUNT), Column("Completed", COUNT),
        Column("Rejection rate", PERCENT), Column("Cancellation rate", PERCENT),
        Column("Median to confirm (min)", MINUTES), Column("Median preparation (min)", MINUTES),
        Column("Ready by prep_time", PERCENT), Column("Median end to end (min)", MINUTES)], rows,
        chart=Chart("bar", (Series(6), Series(7), Series(9)), horizontal=True))


def _couriers(report: Report) -> Table:
    stats = report.stats(["delivery"], group="courier_id")
    ids = [k for k in stats if k is not None]
    names = dict(db.session.execute(select(Courier.id, Courier.name).where(Courier.id.in_(ids))).all()) if ids else {}
    rows = []
    for courier_id, entry in stats.items():
        stat = entry["delivery"]
        if courier_id is None or not stat.n:
            continue
        rows.append([names.get(courier_id, f"#{courier_id}"), stat.n, stat.p50, stat.p90,
                     stat.share_within])
    rows.sort(key=lambda r: (-r[1], r[0]))
    return Table("couriers", "By courier (completed deliveries)", [
        Column("Courier"), Column("Deliveries", COUNT), Column("Median delivery (min)", MINUTES),
        Column("p90 delivery (min)", MINUTES), Column("Delivered within guide", PERCENT)], rows,
        chart=Chart("bar", (Series(1), Series(2, "line", "y2"))))


def _overdue(report: Report) -> Table:
    found = report.overdue()
    names = list(LIMITS) + sorted(k for k in found if k not in LIMITS)
    rows = [[name, *found.get(name, (0, 0, 0))] for name in names]
    return Table("overdue", "Overdue incidents by limit (audit trail)", [
        Column("Limit", LIMIT), Column("Overdue", COUNT), Column("Escalated (2× the limit)", COUNT),
        Column("Orders affected", COUNT)], rows,
        chart=Chart("bar", (Series(1), Series(2))))


def _reasons(report: Report, total: int) -> list[Table]:
    rejections = report.rejections()
    cancellations = report.cancellations()
    by_who: dict[str, int] = {"restaurant": 0, "staff": 0}
    for who, _reason, n in cancellations:
        by_who[who] = by_who.get(who, 0) + n
    share = [Column("Orders", COUNT), Column("Share of all orders", PERCENT)]
    return [
        Table("rejections", "Rejections by reason", [Column("Reason"), *share],
              [[reason, n, _share(n, total)] for reason, n in rejections]),
        Table("cancelled_by", "Cancellations by who cancelled", [Column("Cancelled by"), *share],
              [[who, n, _share(n, total)] for who, n in by_who.items()],
              note="restaurant: through OneTablet; staff: from the board."),
        Table("cancellations", "Cancellations by reason", [Column("Cancelled by"), Column("Reason", CANCEL_REASON), *share],
              [[who, reason, n, _share(n, total)] for who, reason, n in cancellations]),
    ]

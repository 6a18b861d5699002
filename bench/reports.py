"""Timing reports on a big history: seeds finished orders (a million by default) and times
the 30-day report, for all stores and for one store, against a baseline measured in the
same run: `SELECT count(*)` over the same 30 days of orders.

    .venv/bin/python -m bench.reports [--orders N] [--days D] [--sqlite] [--postgresql URL]

Standalone it runs on a fresh SQLite file and on PostgreSQL (BENCH_DATABASE_URL or the
`reports_bench` database, created when missing): the database given is wiped.
`make bench` imports `run(database_url, orders=...)`.

Targets (contract §5, issue 6): under 1 s on PostgreSQL, under 3 s on SQLite.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import timedelta

from sqlalchemy import func, select

TARGET_S = {"postgresql": 1.0, "sqlite": 3.0}
REPORT_DAYS = 30
REPEATS = 3


def _app(database_url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "REDIS_URL": None,
                       "PASSLINE_SCHEDULER": "off", "PASSLINE_OUTBOX_WORKER": "off"})


def _timed(fn, repeats: int = REPEATS) -> float:
    """The median of `repeats` runs after one warm-up, in seconds."""
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _report(app, args: dict) -> int:
    """Build the whole report as /reports does; returns its order count."""
    from app.reports import filters as report_filters
    from app.reports.queries import Guide
    from app.reports.sections import build

    with app.test_request_context("/reports", query_string=args):
        filters = report_filters.parse(args)
        assert not filters.errors, filters.errors
        tables = build(filters, Guide.from_config(app.config))
        return tables[0].rows[0][0]


def _baseline(app, args: dict) -> int:
    """SELECT count(*) over the same orders (the same store-local windows)."""
    from app.extensions import db
    from app.models import Order
    from app.reports import filters as report_filters
    from app.reports.queries import _window_and_offset

    with app.test_request_context("/reports", query_string=args):
        window, _ = _window_and_offset(report_filters.parse(args))
        return db.session.scalar(select(func.count()).select_from(Order).where(window))


def run(database_url: str, orders: int = 1_000_000, days: int = 365) -> list[dict]:
    """Seed `orders` finished orders over `days` days and time the 30-day report."""
    from app.infra import clock
    from app.extensions import db
    from app.models import Order
    from devtools.seed_history import seed_history

    app = _app(database_url)
    with app.app_context():
        dialect = db.engine.dialect.name
        db.create_all()  # the schema, when the caller has not built it
        started = time.perf_counter()
        _, events = seed_history(orders, days)
        seeded_s = time.perf_counter() - started
        total = db.session.scalar(select(func.count()).select_from(Order))
        db.session.remove()
        today = clock.now().date()
        span = {"from": (today - timedelta(days=REPORT_DAYS - 1)).isoformat(), "to": today.isoformat()}

    rows = [dict(name=f"reports ({dialect}): seed {orders:,} finished orders, {events:,} audit rows",
                 value=seeded_s, unit="s", note=f"{orders / seeded_s:,.0f} orders/s; {total:,} orders in the table")]
    for label, args in (("all stores", span), ("one store", {**span, "store": "hist-nyc"})):
        in_range = _report(app, args)
        report_s = _timed(lambda: _report(app, args))
        baseline_s = _timed(lambda: _baseline(app, args))
        target = TARGET_S[dialect]
        rows.append(dict(
            name=f"reports ({dialect}): 30-day report, {label} ({in_range:,} orders)",
            value=report_s * 1000, unit="ms", baseline=baseline_s * 1000,
            baseline_name="SELECT count(*) same rows", target=f"< {target * 1000:.0f} ms",
            ok=report_s < target))
    return rows


def _postgresql_url() -> str:
    """BENCH_DATABASE_URL, or the `reports_bench` database (created when missing)."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url and url.startswith("postgres"):
        return url
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'reports_bench'").fetchone():
            conn.execute("CREATE DATABASE reports_bench")
    return "postgresql://postgres@127.0.0.1:5432/reports_bench"


def _fresh(url: str) -> None:
    """An empty schema built from the models (this bench's own database only)."""
    from sqlalchemy import text

    from app.extensions import db

    with _app(url).app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        db.drop_all()
        db.create_all()
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365, help="the seeded history spans this many days")
    parser.add_argument("--sqlite", action="store_true", help="SQLite only")
    parser.add_argument("--postgresql", action="store_true", help="PostgreSQL only")
    options = parser.parse_args()
    urls = []
    if not options.postgresql:
        urls.append("sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="passline-bench-reports-"), "bench.sqlite3"))
    if not options.sqlite:
        urls.append(_postgresql_url())
    for url in urls:
        print(f"bench.reports: {options.orders:,} orders over {options.days} days on {url.split('@')[-1]}",
              flush=True)
        _fresh(url)
        for row in run(url, orders=options.orders, days=options.days):
            line = f"  {row['name']}: {row['value']:,.1f} {row['unit']}"
            if row.get("baseline") is not None:
                line += (f" (baseline {row['baseline_name']}: {row['baseline']:,.1f} {row['unit']}, "
                         f"ratio {row['value'] / row['baseline']:.1f}x; target {row['target']}: "
                         f"{'met' if row['ok'] else 'MISSED'})")
            print(line + (f" [{row['note']}]" if row.get("note") else ""), flush=True)


if __name__ == "__main__":
    main()

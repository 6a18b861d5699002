"""Benchmark: one overdue tick (app/services/overdue.py) with 100,000 open orders, none due and 1% due.

    .venv/bin/python -m bench.overdue [DATABASE_URL ...]

Without URLs it runs on a fresh SQLite file. Each URL given is WIPED and rebuilt, so give
a scratch database (e.g. postgresql://postgres@127.0.0.1:5432/overdue_bench). `make bench`
calls `run(database_url)` on its own database instead: the orders seeded here are deleted
at the end so later sections do not see them.

Baseline, same run: a bare transaction round trip (BEGIN, SELECT 1, COMMIT) on the same
connection pool, the floor under any tick. Targets (issue 5): under 5 ms none due, under
50 ms with 1% due (1,000 orders flagged, audited and announced in one tick).
"""
from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, insert, select, text

ORDERS = 100_000
DUE_SHARE = 0.01
PREFIX = "bench-overdue-"
OPEN_STEPS = [  # (state, limit): a spread of what waits on a real board
    ("submitted", "confirmation"), ("confirmed", "preparation"),
    ("ready", "courier_pickup"), ("in_transit", "delivery"),
]


def run(database_url: str, orders: int = ORDERS) -> list[dict]:
    """Seed `orders` open orders, time ticks, delete the orders; return the figures."""
    from app import create_app
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "REDIS_URL": None,
                      "PASSLINE_SCHEDULER": "off", "PASSLINE_OUTBOX_WORKER": "off"})
    backend = database_url.split(":")[0].split("+")[0]
    now = datetime.now(timezone.utc)
    with app.app_context():
        store_id = _seed(orders, now)
        try:
            rows = _measure(app, backend, orders, now)
        finally:
            _clean(store_id)
            db.session.remove()
            db.engine.dispose()
    return rows


def _seed(n: int, now: datetime) -> int:
    """n open orders, in bulk INSERTs, none due, as a board holds them: they arrived one
    after the other (so orders that fall due together arrived together, and sit together
    on disk and in the time indexes) under the platform's random ids (scattered over the
    primary key). Their alarms follow over the next hour; each waits for a step that
    started two hours before, so a flagged order does not escalate during the bench."""
    from app.extensions import db
    from app.models import Order, OrderPayload, Store

    store_id = db.session.execute(insert(Store).values(merchant_supplied_id=PREFIX + "store", name="Bench")
                                  .returning(Store.id)).scalar_one()
    payload = {  # about the size of a real order (the platform's, kept whole)
        "store": {"merchant_supplied_id": PREFIX + "store", "timezone": "America/New_York"},
        "consumer": {"id": 12345, "first_name": "John", "last_name": "Doe", "phone": "+15551234567"},
        "subtotal": 2100, "tax": 189, "tip": 300, "is_pickup": False, "fulfillment_type": "mx_fleet_delivery",
        "delivery_address": {"street": "1 Main St", "city": "Springfield", "zip_code": "12345"},
        "categories": [{"name": "Burgers", "items": [
            {"merchant_supplied_id": "burger", "name": "Smash Burger", "quantity": 1, "price": 1200,
             "options": [{"name": "No onions"}], "extras": [{"name": "Cheese", "price": 100}]},
            {"merchant_supplied_id": "fries", "name": "Fries", "quantity": 2, "price": 450}]}],
    }
    ids = random.Random(5)
    chunk = 5_000
    for start in range(0, n, chunk):
        rows = []
        for i in range(start, min(n, start + chunk)):
            state, limit = OPEN_STEPS[i % len(OPEN_STEPS)]
            entered = now - timedelta(hours=2) + timedelta(seconds=i * 3600 / n)
            alarm = _due_by(i + 1, n, now)
            rows.append({
                "id": f"{PREFIX}{ids.getrandbits(64):016x}", "store_id": store_id, "state": state,
                "fulfillment_type": "mx_fleet_delivery", "payload_hash": "x" * 64,
                "customer_name": "Bench Customer", "version": 1, "overdue_level": 0,
                "created_at": entered, "state_changed_at": entered,
                "deadline_limit": limit, "deadline_started_at": entered, "deadline_at": alarm,
                "next_alarm_at": alarm,
            })
        db.session.execute(insert(Order), rows)
        db.session.execute(insert(OrderPayload), [{"order_id": row["id"], "payload": payload} for row in rows])
    db.session.commit()
    _analyze()
    return store_id


def _analyze():
    from app.extensions import db

    db.session.execute(text("ANALYZE"))  # fresh statistics, as autovacuum would leave them
    db.session.commit()


def _due_by(count: int, n: int, now: datetime) -> datetime:
    """The moment by which `count` of the n seeded orders are due (one more each 3600/n s)."""
    return now + timedelta(seconds=60 + count * 3600 / n)


def _clean(store_id: int) -> None:
    from app.extensions import db
    from app.models import Order, OrderEvent, OrderPayload, Store

    db.session.rollback()
    mine = select(Order.id).where(Order.store_id == store_id)
    db.session.execute(delete(OrderEvent).where(OrderEvent.order_id.in_(mine)))
    db.session.execute(delete(OrderPayload).where(OrderPayload.order_id.in_(mine)))
    db.session.execute(delete(Order).where(Order.store_id == store_id))
    db.session.execute(delete(Store).where(Store.id == store_id))
    db.session.commit()


def _ms(fn, repeat: int) -> float:
    """Median wall time of fn() in milliseconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _measure(app, backend: str, n: int, now: datetime) -> list[dict]:
    from app.infra import live
    from app.services import overdue
    from app.extensions import db

    def in_context(fn):
        def call():
            with app.app_context():  # as the scheduler runs a job: its own context and session
                return fn()
        return call

    def round_trip():
        db.session.execute(text("SELECT 1"))
        db.session.commit()

    tick = in_context(lambda: overdue.tick(now))
    flushed = 0  # warm up, flagging (and escalating) whatever an earlier section left due
    for _ in range(5):
        flushed += (last := tick())
        if not last:
            break
    baseline = _ms(in_context(round_trip), 200)
    none_due = _ms(tick, 50)

    due = int(n * DUE_SHARE)

    def due_ticks(reps: int) -> tuple[float, float]:
        """Median time of a tick that finds a fresh 1% due (a tick flags them all), and of
        the same tick until the live publisher has pushed every flagged card. Orders fall
        due as on a board: the tick's clock moves on (to when 1% more are late), no row is
        touched before it."""
        ticks, pushed = [], []
        for rep in range(1, reps + 1):
            tick_at = _due_by(rep * due, n, now)
            live.drain(app)
            started = time.perf_counter()
            with app.app_context():
                flagged = overdue.tick(tick_at)
            ticks.append((time.perf_counter() - started) * 1000)
            assert live.drain(app, timeout=60), "live publisher did not finish"
            pushed.append((time.perf_counter() - started) * 1000)
            assert flagged == due, f"expected {due} flags, got {flagged} (after {flushed} stray)"
        return statistics.median(ticks), statistics.median(pushed)

    with_due, until_pushed = due_ticks(11)  # the median of many: this box is noisy

    label = f"overdue tick, {backend}, {n:,} open"
    common = {"unit": "ms", "baseline": baseline, "baseline_name": "BEGIN/SELECT 1/COMMIT"}
    return [
        {"name": f"{label}, none due", "value": none_due, "target": "< 5 ms", "ok": none_due < 5,
         "note": f"query plan: {_plan(overdue.due_query(now))}", **common},
        {"name": f"{label}, 1% ({due:,}) due", "value": with_due, "target": "< 50 ms", "ok": with_due < 50,
         "note": "one SELECT, the lifecycle per order, an UPDATE and an INSERT of audit rows per 250 (pipelined on PostgreSQL), COMMIT", **common},
        {"name": f"{label}, 1% ({due:,}) due, until every card is pushed", "value": until_pushed, **common,
         "note": "the tick, then the live publisher renders the flagged cards (app/board/cards.py) and emits them"},
    ]


def _plan(query) -> str:
    """The database's plan for the tick's query, one line."""
    from app.extensions import db

    with db.engine.connect() as conn:
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "postgresql":
            lines = conn.execute(text("EXPLAIN " + sql)).scalars().all()
        else:
            lines = [row[-1] for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql))]
    return " / ".join(line.strip().split("  (cost")[0] for line in lines)


def main(argv: list[str]) -> int:
    from bench import database
    from bench.table import Row, markdown

    urls = argv or [database.url_from_environment()]
    rows = []
    for url in urls:
        print(f"bench.overdue: {url.split('@')[-1]}: wiping, seeding {ORDERS:,} open orders…", flush=True)
        database.fresh(url)
        rows += [Row(**row) for row in run(url)]
    print("\n" + markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

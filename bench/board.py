"""The board's server time with 2,000 open orders, against /healthz (one tiny query) in the
same run. In-process WSGI calls: server time, no network.

    .venv/bin/python -m bench.board [--orders 2000] [--runs 40]     # BENCH_DATABASE_URL or SQLite

Also `seed()`: demo-like orders written straight to the tables (stores, couriers, every
state, overdue ones, failed calls), used here and by the board's screenshot test.
"""
from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time
from datetime import datetime, timedelta

from .table import Row

STORES = [("Luigi's Trattoria", "America/New_York"), ("Pho Saigon", "America/New_York"),
          ("Smash Bros Burgers", "America/Chicago"), ("Green Bowl", "America/New_York"),
          ("Tandoor House", "America/Chicago"), ("Sushi Kai", "America/Los_Angeles"),
          ("Taqueria El Sol", "America/Los_Angeles"), ("Bagel Corner", "America/New_York")]
FIRST = ["Ava", "Noah", "Mia", "Liam", "Zoe", "Ethan", "Chloe", "Lucas", "Aria", "Mateo", "Nora", "Leo", "Ivy",
         "Omar", "Sofia", "Kai", "Priya", "Jonah", "Elena", "Sam"]
LAST = ["Nguyen", "Smith", "Garcia", "Patel", "Kim", "Rossi", "Cohen", "Okafor", "Silva", "Brown"]
COURIERS = ["Mike Rivera", "Ana Lopez", "Dev Shah", "Tom Becker", "Lena Wolf", "Chris Park", "Jade Moreau",
            "Sam Ortiz", "Rita Costa", "Yusuf Ali", "Ben Carter", "Nina Petrova"]
# (state, share of open orders)
OPEN_MIX = [("submitted", 0.12), ("confirmed", 0.38), ("ready", 0.22), ("in_transit", 0.28)]
LIMIT = {"submitted": ("confirmation", 5), "confirmed": ("preparation", 20), "ready": ("courier_pickup", 15),
         "in_transit": ("delivery", 45)}


def seed(open_orders: int, *, now: datetime, rng: random.Random, finished: int = 0, failed_calls: int = 0,
         overdue_share: float = 0.08) -> list[str]:
    """Add demo-like stores, couriers and orders (inside an app context); commits, returns
    the open orders' ids."""
    from app.extensions import db
    from app.models import Courier, Order, OutboxMessage, Store

    stores = [Store(merchant_supplied_id=f"store-{i + 1}", name=name, timezone=tz)
              for i, (name, tz) in enumerate(STORES)]
    couriers = [Courier(name=name, phone=f"+1555010{i:04d}") for i, name in enumerate(COURIERS)]
    db.session.add_all(stores + couriers)
    db.session.flush()

    def order(state: str, n: int) -> Order:
        store = rng.choice(stores)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        kind = rng.choices(["pickup", "dx_delivery", "mx_fleet_delivery"], [0 if state == "in_transit" else 2, 3, 5])[0]
        items = rng.randint(1, 6)
        subtotal = rng.randint(900, 8500)
        age = timedelta(minutes=rng.uniform(0.3, 1.6) * (LIMIT.get(state, ("", 30))[1]))
        body = {"id": f"PL-{n:05d}", "store": {"merchant_supplied_id": store.merchant_supplied_id},
                "consumer": {"first_name": first, "last_name": last, "phone": "+15550100000"},
                "subtotal": subtotal, "tax": subtotal * 9 // 100, "tip": rng.choice([0, 200, 300, 500]),
                "is_pickup": kind == "pickup", "fulfillment_type": kind,
                "categories": [{"name": "Mains", "items": [
                    {"merchant_supplied_id": f"item-{k}", "name": f"Dish {k}", "quantity": 1, "price": 1000}
                    for k in range(items)]}]}
        o = Order(id=body["id"], store_id=store.id, state=state, fulfillment_type=kind, payload=body,
                  payload_hash=hashlib.sha256(body["id"].encode()).hexdigest(), customer_first_name=first,
                  customer_name=f"{first} {last}", item_count=items, subtotal=subtotal, tax=body["tax"],
                  total=subtotal + body["tax"] + body["tip"], version=rng.randint(1, 6),
                  created_at=now - age - timedelta(minutes=10), state_changed_at=now - age,
                  acknowledged_at=now - age / 2 if rng.random() < 0.8 else None)
        if state in LIMIT:
            limit, minutes = LIMIT[state]
            if kind == "pickup" and state == "ready":
                limit, minutes = "customer_pickup", 30
            o.deadline_limit, o.deadline_started_at = limit, o.state_changed_at
            o.deadline_at = o.next_alarm_at = o.state_changed_at + timedelta(minutes=minutes)
            if rng.random() < overdue_share and o.deadline_at < now:
                o.overdue_limit, o.overdue_level, o.overdue_since = limit, 1, o.deadline_at
        else:
            o.finished_at = o.state_changed_at
            if state == "cancelled":
                o.cancel_reason = rng.choice(["ITEM_OUT_OF_STOCK", "KITCHEN_BUSY", "STORE_CLOSED"])
                o.cancelled_by = rng.choice(["onetablet", "staff:dana"])
            if state == "rejected":
                o.failure_reason = "Store is currently closed"
        if kind != "pickup" and state in ("ready", "in_transit", "completed") or (
                kind != "pickup" and state == "confirmed" and rng.random() < 0.4):
            o.courier_id = rng.choice(couriers).id
            o.courier_status = {"confirmed": "dasher_confirmed", "ready": rng.choice(
                ["dasher_confirmed", "arriving_at_store", "arrived_at_store"]),
                "in_transit": "dasher_out_for_delivery", "completed": "dropoff"}[state]
        return o

    states = [state for state, share in OPEN_MIX for _ in range(round(share * open_orders))][:open_orders]
    states += ["confirmed"] * (open_orders - len(states))
    finished_states = rng.choices(["completed", "cancelled", "rejected"], [8, 1.5, 0.5], k=finished)
    rows = [order(state, n) for n, state in enumerate(states + finished_states, start=1)]
    db.session.add_all(rows)
    db.session.flush()
    for o in rng.sample(rows[:open_orders], min(failed_calls, open_orders)):
        db.session.add(OutboxMessage(target="onetablet", kind="delivery_status", order_id=o.id,
                                     path=f"/orders/{o.id}/delivery-status", payload={}, status="failed",
                                     idempotency_key=f"seed-{o.id}", attempts=12, last_status_code=503,
                                     last_error="503 Service Unavailable", failed_at=now))
    db.session.commit()
    return [o.id for o in rows[:open_orders]]


def _times(client, path: str, runs: int, headers=None) -> list[float]:
    for _ in range(3):  # warm caches (templates, statements) first
        assert client.get(path, headers=headers).status_code == 200, path
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        out.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, path
    return out


def _p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]


def bench_app(database_url: str):
    """The app the page benches time in-process: no background services, no Redis."""
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "REDIS_URL": None,
                       "WTF_CSRF_ENABLED": False, "PASSLINE_SCHEDULER": "off", "PASSLINE_OUTBOX_WORKER": "off"})


def server_time_rows(app, measured: dict, baseline: list[float], *, label, target: str, passes) -> list[Row]:
    """One row per timed page: its median server time against /healthz's, judged by
    `passes(median, p90)`; then the app's connections are closed."""
    from app.extensions import db

    base = statistics.median(baseline)
    rows = []
    for name, values in measured.items():
        median, p90 = statistics.median(values), _p90(values)
        rows.append(Row(f"{label(name)}: server time median (p90 {p90:.0f} ms)", median, "ms",
                        baseline=base, baseline_name="/healthz", target=target, ok=passes(median, p90)))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return rows


def run(database_url: str, orders: int = 2000, runs: int = 40) -> list[Row]:
    """Seed `orders` open orders (plus recent finished ones) and time the board pages."""
    from app.infra import clock
    from app.services import accounts
    from app.extensions import db

    app = bench_app(database_url)
    with app.app_context():
        db.create_all()
        ids = seed(orders, now=clock.now(), rng=random.Random(4), finished=orders // 5, failed_calls=25)
        accounts.create_user("bench-board", role="dispatcher", password="bench-board-pw")
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    assert client.post("/login", data={"username": "bench-board", "password": "bench-board-pw"}).status_code == 303

    baseline = _times(client, "/healthz", runs)
    measured = {
        "board page `/`": _times(client, "/", runs),
        "board fragment (htmx, reconnect)": _times(client, "/", runs, {"HX-Request": "true"}),
        "board filtered (store + search)": _times(client, "/?store=store-2&q=a", runs, {"HX-Request": "true"}),
        "order detail": _times(client, f"/orders/{ids[len(ids) // 2]}", runs, {"HX-Request": "true"}),
    }
    return server_time_rows(app, measured, baseline, label=lambda name: f"{name}, {orders:,} open orders",
                            target="median < 150 ms", passes=lambda median, p90: median < 150)


def main() -> None:
    from . import database
    from .table import markdown

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    url = database.url_from_environment()
    database.fresh(url)
    print(f"board bench on {url.split('@')[-1]}: {args.orders} open orders, {args.runs} runs each")
    print(markdown(run(url, orders=args.orders, runs=args.runs)))


if __name__ == "__main__":
    main()

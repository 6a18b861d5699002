"""The staff pages' server time (/couriers, /stores, /refunds, /webhooks) with the board's
2,000 open orders and 100,000 webhooks in the log, against /healthz in the same run.
In-process WSGI calls: server time, no network.

    .venv/bin/python -m bench.pages [--orders 2000] [--receipts 100000] [--runs 30]
"""
from __future__ import annotations

import argparse
import random

from .board import _times, bench_app, seed, server_time_rows
from .table import Row

KINDS = ["order_confirmation", "order_ready", "order_cancellation", "store_status"]


def _seed_log(ids: list[str], receipts: int, now, rng: random.Random) -> None:
    """`receipts` webhooks, most applied, some duplicates and refusals, spread over the orders."""
    from datetime import timedelta

    from app.extensions import db
    from app.models import WebhookReceipt

    rows = []
    for n in range(receipts):
        verdict = rng.choices(["applied", "duplicate", "refused"], [90, 7, 3])[0]
        rows.append({"received_at": now - timedelta(seconds=receipts - n), "webhook_id": f"msg_{n}",
                     "method": "PATCH", "path": "/onetablet/orders/x", "kind": rng.choice(KINDS),
                     "order_id": rng.choice(ids), "headers": {"webhook-id": f"msg_{n}"},
                     "body": '{"merchant_supplied_id": "R-1", "order_status": "success"}', "verdict": verdict,
                     "status_code": {"applied": 200, "duplicate": 200, "refused": 409}[verdict]})
    for start in range(0, receipts, 5000):
        db.session.execute(WebhookReceipt.__table__.insert(), rows[start:start + 5000])
    db.session.commit()


def _seed_refunds() -> int:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Order, Refund

    for order in db.session.execute(select(Order).where(Order.state.in_(["rejected", "cancelled"]))).scalars():
        db.session.add(Refund(order_id=order.id, amount=order.total, reason=order.cancel_reason or "rejected"))
    db.session.commit()
    return db.session.query(Refund).count()


def run(database_url: str, orders: int = 2000, receipts: int = 100_000, runs: int = 30) -> list[Row]:
    from app.infra import clock
    from app.services import accounts
    from app.extensions import db

    app = bench_app(database_url)
    rng = random.Random(5)
    with app.app_context():
        db.create_all()
        ids = seed(orders, now=clock.now(), rng=rng, finished=orders // 2)
        refunds = _seed_refunds()
        _seed_log(ids, receipts, clock.now(), rng)
        accounts.create_user("bench-pages", role="admin", password="bench-pages-pw")
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    assert client.post("/login", data={"username": "bench-pages", "password": "bench-pages-pw"}).status_code == 303

    middle = receipts // 2
    baseline = _times(client, "/healthz", runs)
    measured = {
        f"/couriers, {orders:,} open orders": _times(client, "/couriers", runs),
        "/stores": _times(client, "/stores", runs),
        f"/refunds, {refunds:,} waiting": _times(client, "/refunds", runs),
        f"/webhooks newest, {receipts:,} in the log": _times(client, "/webhooks", runs),
        "/webhooks, a page in the middle": _times(client, f"/webhooks?before={middle}", runs),
        "/webhooks filtered by order": _times(client, f"/webhooks?order={ids[7]}", runs),
        "/webhooks filtered by verdict refused": _times(client, "/webhooks?verdict=refused", runs),
        "/webhooks, one raw body (htmx)": _times(client, f"/webhooks/{middle}", runs, {"HX-Request": "true"}),
    }
    return server_time_rows(app, measured, baseline, label=lambda name: name,
                            target="< 150 ms", passes=lambda median, p90: p90 < 150)


def main() -> None:
    from . import database
    from .table import markdown

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--receipts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    url = database.url_from_environment()
    database.fresh(url)
    print(f"staff pages bench on {url.split('@')[-1]}: {args.orders} open orders, {args.receipts} webhooks")
    print(markdown(run(url, orders=args.orders, receipts=args.receipts, runs=args.runs)))


if __name__ == "__main__":
    main()

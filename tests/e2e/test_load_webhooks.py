"""Webhooks under load against a real gunicorn process (production settings): thousands sent
concurrently with duplicates and out-of-order deliveries, and a burst of 100 at once.
Runs on SQLite and, in CI's second pass, on PostgreSQL + Redis."""
from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Order, OrderEvent, WebhookReceipt
from bench import load, traffic

pytestmark = pytest.mark.slow

REJECT_REASONS = ("Store is currently closed", "Kitchen closed early", "Out of buns", "Too busy")


def _scenario(order_id: str, kind: str):
    """The distinct events OneTablet sends for one order, and the state they imply
    whatever order they arrive in."""
    if kind == "ready":  # a kitchen that revises its promise twice, then finishes
        return [traffic.confirm(order_id, 15), traffic.confirm(order_id, 25), traffic.confirm(order_id, 35),
                traffic.ready(order_id)], "ready"
    if kind == "cancelled":
        return [traffic.confirm(order_id, 15), traffic.confirm(order_id, 25), traffic.ready(order_id),
                traffic.cancel(order_id)], "cancelled"
    return [traffic.reject(order_id, reason) for reason in REJECT_REASONS], "rejected"


def _resend(request, *, same_id: bool):
    """A duplicate: OneTablet's retry (same webhook-id) or the same event sent again."""
    webhook_id = request.headers["webhook-id"] if same_id else None
    return traffic.webhook(request.method, request.path.removeprefix("/onetablet"), request.body,
                           webhook_id=webhook_id)


def _traffic(order_ids, *, rng, duplicates: int, reordered: float):
    """Jobs for the senders: one per order (its events in sequence, some in the wrong
    order, some retried in place) plus loose duplicates that race the originals."""
    expected, sequences = {}, {}
    kinds = ["ready"] * 5 + ["cancelled"] * 4 + ["rejected"]
    for order_id in order_ids:
        events, expected[order_id] = _scenario(order_id, rng.choice(kinds))
        if rng.random() < reordered:
            original = list(events)
            while events == original:
                rng.shuffle(events)
        sequences[order_id] = events
    originals = [e for events in sequences.values() for e in events]
    loose = []
    for n, original in enumerate(rng.sample(originals, duplicates)):
        copy = _resend(original, same_id=n % 2 == 0)
        if n % 3 == 0:
            loose.append([copy])
        else:
            sequence = sequences[original.path.split("/")[3]]
            sequence.insert(rng.randint(sequence.index(original) + 1, len(sequence)), copy)
    jobs = list(sequences.values()) + loose
    rng.shuffle(jobs)
    return jobs, expected


def _canonical(payload) -> str:
    return json.dumps(payload, sort_keys=True)


def test_5000_webhooks_with_duplicates_and_reordering_end_in_the_implied_states_audited_once(
        app, passline_servers):
    # PostgreSQL serves several processes at once (contract §7); SQLite's writers queue anyway.
    servers = [passline_servers() for _ in range(2 if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgres") else 1)]
    urls = [s.url for s in servers]
    order_ids = traffic.new_ids(1000, "load")
    traffic.create_orders(urls, order_ids)
    rng = random.Random(7)
    jobs, expected = _traffic(order_ids, rng=rng, duplicates=1000, reordered=0.10)
    assert sum(len(job) for job in jobs) == 5000

    result = load.run(urls, jobs, 50, deadline=240)

    assert len(result.answers) == 5000, "the load was cut short"
    assert set(result.statuses) <= {200, 409}, (result.statuses, [s.log_tail() for s in servers])
    with app.app_context():
        states = dict(db.session.execute(select(Order.id, Order.state).where(Order.id.in_(order_ids))).all())
        assert states == expected

        rows = db.session.execute(
            select(OrderEvent.order_id, OrderEvent.event, OrderEvent.implied, OrderEvent.from_state,
                   OrderEvent.to_state, OrderEvent.payload)
            .where(OrderEvent.actor == "onetablet", OrderEvent.refused.is_(False))).all()
        audited = Counter((r.order_id, r.event, r.implied, _canonical(r.payload)) for r in rows)
        twice = [key for key, count in audited.items() if count > 1]
        assert not twice, f"changes audited more than once: {twice[:5]}"

        entered = Counter(r.order_id for r in rows if r.to_state == expected[r.order_id] != r.from_state)
        assert all(entered[o] == 1 for o in order_ids), "an order entered its final state other than once"

        applied = [a for a in result.answers if a.status == 200 and json.loads(a.body)["status"] == "applied"]
        audited_payloads = {(r.order_id, _canonical(r.payload)) for r in rows}
        for answer in applied:
            order_id = answer.request.path.split("/")[3]
            assert (order_id, _canonical(json.loads(answer.request.body))) in audited_payloads

        receipts = Counter(db.session.execute(
            select(WebhookReceipt.webhook_id, WebhookReceipt.status_code)
            .where(WebhookReceipt.order_id.in_(order_ids))).all())
    sent = Counter((a.request.headers["webhook-id"], a.status) for a in result.answers)
    assert receipts == sent, "every answered webhook has exactly its receipt"


def test_100_concurrent_webhooks_all_apply_without_database_is_locked(app, passline_servers):
    server = passline_servers()
    order_ids = traffic.new_ids(100, "burst")
    traffic.create_orders(server.url, order_ids)

    result = load.run(server.url, [[traffic.confirm(i)] for i in order_ids], 100)

    assert result.statuses == {200: 100}, server.log_tail()
    assert "database is locked" not in server.log_tail(100_000)
    with app.app_context():
        states = Counter(db.session.execute(select(Order.state).where(Order.id.in_(order_ids))).scalars())
    assert states == {"confirmed": 100}

"""`flask --app wsgi seed-history`: realistic finished orders with their audit rows (kept
tiny here; bench/reports.py seeds a million)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

from sqlalchemy import func, select

from app.extensions import db
from app.domain.lifecycle import TERMINAL
from app.models import Courier, Order, OrderEvent, Store


def test_seed_history_fills_finished_orders_with_their_audit_trail(app, runner):
    result = runner.invoke(args=["seed-history", "--orders", "400", "--days", "10", "--couriers", "8"])
    assert result.exit_code == 0, result.output
    assert "seeded 400 finished orders" in result.output
    with app.app_context():
        orders = db.session.execute(select(Order)).scalars().all()
        assert len(orders) == 400
        states = Counter(o.state for o in orders)
        assert set(states) <= TERMINAL and states["completed"] > 300 and states["rejected"] and states["cancelled"]
        assert {o.cancelled_by.split(":")[0] for o in orders if o.state == "cancelled"} == {"onetablet", "staff"}
        assert len({o.store.timezone for o in orders}) >= 5  # stores across timezones
        assert db.session.scalar(select(func.count()).select_from(Courier)) == 8
        now = datetime.now(timezone.utc)
        for o in orders:
            assert o.finished_at is not None and o.created_at <= o.finished_at <= now
            steps = [t for t in (o.created_at, o.confirmed_at, o.ready_at, o.in_transit_at, o.finished_at) if t]
            assert steps == sorted(steps), o.id
            if o.state == "completed" and o.fulfillment_type != "pickup":
                assert o.courier_id and o.in_transit_at
        trail = Counter(db.session.execute(select(OrderEvent.event)).scalars())
        assert trail["submitted"] == 400
        assert trail["rejected"] == states["rejected"] and trail["cancelled"] == states["cancelled"]
        assert trail["overdue"] > 0  # a realistic tail runs late
        last = dict(db.session.execute(
            select(OrderEvent.order_id, OrderEvent.to_state).where(OrderEvent.event.not_in(("overdue", "overdue_escalated")))
            .order_by(OrderEvent.at, OrderEvent.id)).all())
        assert all(last[o.id] == o.state for o in orders)  # the trail ends where the order is


def test_a_seeded_history_reads_as_a_report(app, runner, auth, client):
    assert runner.invoke(args=["seed-history", "--orders", "300", "--days", "7"]).exit_code == 0
    auth.login("maya", role="manager")
    page = client.get("/reports")
    assert page.status_code == 200 and "No orders match" not in page.get_data(as_text=True)
    with app.app_context():
        store = db.session.execute(select(Store).where(Store.merchant_supplied_id == "hist-tyo")).scalar_one()
    assert client.get("/reports", query_string={"store": store.merchant_supplied_id}).status_code == 200
    assert client.get("/reports.csv").status_code == 200

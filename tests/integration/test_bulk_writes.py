"""app/infra/bulk.py's set-based writes store exactly what the ORM stores: rows written either way
read back equal, and compare and sort together (SQLite keeps datetimes as text)."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.infra.bulk import Writes
from app.extensions import db
from app.models import Order, OrderEvent, Store

AT = datetime(2026, 11, 29, 3, 0, 0, tzinfo=timezone.utc)  # whole seconds: no microseconds to print
ELSEWHERE = timezone(timedelta(hours=-5))


def an_order(order_id, store_id, **fields):
    return Order(id=order_id, store_id=store_id, state="submitted", fulfillment_type="pickup", payload={},
                 payload_hash="x", version=1, created_at=AT, state_changed_at=AT, **fields)


def a_store_with_orders(*orders: dict) -> None:
    """Store s1 and its orders (each given as the fields beyond the defaults), flushed."""
    store = Store(merchant_supplied_id="s1", name="S")
    db.session.add(store)
    db.session.flush()
    db.session.add_all([an_order(store_id=store.id, **fields) for fields in orders])
    db.session.flush()


def test_rows_inserted_in_bulk_read_back_as_the_orm_writes_them(app):
    with app.app_context():
        a_store_with_orders({"order_id": "o1"})
        orm = OrderEvent(order_id="o1", at=AT, actor="a", event="overdue", from_state="submitted",
                         to_state="submitted", implied=False, refused=False,
                         detail={"limit": "confirmation", "late_by_seconds": 61, "overdue_level": [0, 1]})
        db.session.add(orm)
        with Writes(db.session) as writes:
            writes.insert(OrderEvent.__table__, [{
                "order_id": "o1", "at": AT.astimezone(ELSEWHERE), "actor": "a", "event": "overdue",
                "from_state": "submitted", "to_state": "submitted", "implied": False, "refused": False,
                "detail": {"limit": "confirmation", "late_by_seconds": 61, "overdue_level": [0, 1]}}])
        db.session.commit()
        events = db.session.execute(select(OrderEvent).order_by(OrderEvent.id)).scalars().all()
        fields = lambda e: (e.at, e.actor, e.event, e.implied, e.refused, e.detail)  # noqa: E731
        assert fields(events[0]) == fields(events[1])
        assert events[1].at.tzinfo is not None and events[1].at == AT
        assert db.session.execute(select(OrderEvent.id).where(OrderEvent.at == AT)).scalars().all() == [
            events[0].id, events[1].id]


def test_rows_updated_in_bulk_change_only_their_columns_and_compare_with_orm_values(app):
    with app.app_context():
        a_store_with_orders(*({"order_id": f"o{i}", "next_alarm_at": AT + timedelta(minutes=i)} for i in range(3)))
        db.session.commit()
        with Writes(db.session) as writes:
            writes.update(Order.__table__, [
                {"id": "o0", "next_alarm_at": AT + timedelta(minutes=10, microseconds=5), "overdue_level": 1,
                 "overdue_limit": "confirmation", "acknowledged_at": None},
                {"id": "o2", "next_alarm_at": None, "overdue_level": 2, "overdue_limit": "confirmation",
                 "acknowledged_at": None},
            ])
        db.session.commit()
        db.session.expire_all()
        rows = {o.id: o for o in db.session.execute(select(Order)).scalars()}
        assert rows["o0"].next_alarm_at == AT + timedelta(minutes=10, microseconds=5)
        assert (rows["o0"].overdue_level, rows["o0"].overdue_limit) == (1, "confirmation")
        assert (rows["o1"].next_alarm_at, rows["o1"].overdue_level, rows["o1"].state) == (
            AT + timedelta(minutes=1), 0, "submitted")
        assert (rows["o2"].next_alarm_at, rows["o2"].overdue_level) == (None, 2)
        # The overdue tick's query compares and sorts bulk-written and ORM-written times together.
        due = db.session.execute(select(Order.id).where(Order.next_alarm_at <= AT + timedelta(minutes=10, microseconds=5))
                                 .order_by(Order.next_alarm_at)).scalars().all()
        assert due == ["o1", "o0"]


def test_a_bulk_write_that_fails_raises_by_the_end_of_its_block_and_the_transaction_rolls_back(app):
    import pytest

    with app.app_context():
        a_store_with_orders({"order_id": "o1"})
        db.session.commit()
        with pytest.raises(Exception) as failure:  # the driver's error on PostgreSQL, SQLAlchemy's on SQLite
            with Writes(db.session) as writes:
                writes.update(Order.__table__, [{"id": "o1", "overdue_level": 1}])
                writes.insert(OrderEvent.__table__, [{"order_id": "no-such-order", "at": AT, "actor": "a",
                                                      "event": "overdue", "from_state": "submitted",
                                                      "to_state": "submitted", "implied": False, "refused": False}])
        assert "foreign key" in str(failure.value).lower()
        db.session.rollback()
        assert db.session.get(Order, "o1").overdue_level == 0

"""An event on an order locks that order's row until it commits (concurrent events on one
order apply one after the other), and nothing else: not its store, whose other orders'
events go on at the same time."""
import pytest
from sqlalchemy import text

from app.services import orders
from app.extensions import db
from app.models import Order


def test_an_order_being_changed_locks_its_row_and_not_its_store(app, submitted):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("row locks: SQLite serialises every writer with BEGIN IMMEDIATE")
    with app.app_context():
        order = orders.get_for_update(submitted)
        assert order.store.merchant_supplied_id  # loaded with it, for the card
        with db.engine.connect() as other:
            other.execute(text("SET lock_timeout = '2s'"))
            store = other.execute(text("SELECT id FROM stores WHERE id = :id FOR UPDATE"),
                                  {"id": order.store_id}).scalar_one()
            assert store == order.store_id
            other.rollback()
            with pytest.raises(Exception, match="could not obtain lock"):
                other.execute(text("SELECT id FROM orders WHERE id = :id FOR UPDATE NOWAIT"), {"id": submitted})
        db.session.rollback()
        assert db.session.get(Order, submitted).state == "submitted"

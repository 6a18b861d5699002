"""The committed migrations build the schema from zero, and it matches the models."""
import json
import os
import uuid
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from app.extensions import db
from tests.helpers import make_app


@contextmanager
def fresh_database(tmp_path):
    """The URL of an empty database (SQLite, or a new PostgreSQL one dropped afterwards)."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        yield "sqlite:///" + str(tmp_path / "fresh.sqlite3")
        return
    name = f"passline_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_db_upgrade_builds_the_schema_the_models_describe(tmp_path):
    with fresh_database(tmp_path) as url:
        app = make_app(url)
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            db.engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_moving_payloads_to_their_own_table_keeps_every_payload_both_ways(tmp_path):
    """b4d8f2a6c0e3 moves orders.payload to order_payloads; its downgrade moves it back."""
    payload = {"id": "o-1", "categories": [{"name": "Burgers", "items": [{"name": "Smash", "quantity": 2}]}]}
    with fresh_database(tmp_path) as url:
        app = make_app(url)
        with app.app_context():
            upgrade(revision="a7c3e9d1f5b2")
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO stores (merchant_supplied_id, name, timezone, is_active, created_at, "
                                  "updated_at) VALUES ('s-1', 'S', 'UTC', true, '2026-01-01', '2026-01-01')"))
                conn.execute(text(
                    "INSERT INTO orders (id, store_id, state, fulfillment_type, payload, payload_hash, "
                    "customer_first_name, customer_name, item_count, subtotal, tax, total, version, overdue_level, "
                    "created_at, state_changed_at) SELECT 'o-1', id, 'submitted', 'pickup', :payload, 'h', '', '', "
                    "2, 0, 0, 0, 1, 0, '2026-01-01', '2026-01-01' FROM stores"), {"payload": json.dumps(payload)})
            upgrade()
            with db.engine.connect() as conn:
                moved = conn.execute(text("SELECT order_id, payload FROM order_payloads")).all()
                columns = [c["name"] for c in inspect(conn).get_columns("orders")]
            downgrade(revision="a7c3e9d1f5b2")
            with db.engine.connect() as conn:
                back = conn.execute(text("SELECT payload FROM orders WHERE id = 'o-1'")).scalar_one()
            db.engine.dispose()
    assert [(oid, _json(p)) for oid, p in moved] == [("o-1", payload)]
    assert "payload" not in columns
    assert _json(back) == payload


def _json(value):
    return json.loads(value) if isinstance(value, str) else value

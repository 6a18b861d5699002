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


@contextmanager
def migrated_to(tmp_path, revision="head"):
    """An app context on a fresh database built by the migrations up to `revision` (what
    `flask --app wsgi db upgrade <revision>` does); PHONE_REGION and the like as the
    environment sets them."""
    with fresh_database(tmp_path) as url:
        app = make_app(url)
        with app.app_context():
            upgrade(revision=revision)
            try:
                yield
            finally:
                db.engine.dispose()


def test_db_upgrade_builds_the_schema_the_models_describe(tmp_path):
    with migrated_to(tmp_path):
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_moving_payloads_to_their_own_table_keeps_every_payload_both_ways(tmp_path):
    """b4d8f2a6c0e3 moves orders.payload to order_payloads; its downgrade moves it back."""
    payload = {"id": "o-1", "categories": [{"name": "Burgers", "items": [{"name": "Smash", "quantity": 2}]}]}
    with migrated_to(tmp_path, "a7c3e9d1f5b2"):
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
    assert [(oid, _json(p)) for oid, p in moved] == [("o-1", payload)]
    assert "payload" not in columns
    assert _json(back) == payload


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _courier_rows(conn):
    return {name: (phone, active) for name, phone, active in
            conn.execute(text("SELECT name, phone, is_active FROM couriers ORDER BY id")).all()}


def test_stored_courier_phones_become_e164_and_none_is_lost(tmp_path, capsys):
    """f1c8e4a2b9d3 rewrites phones typed before they were normalised; what it cannot read is
    kept as typed and named in its output, and couriers that now share a number are all kept."""
    typed = [
        ("Ana", "(555) 010-2000", True),        # a US national number, as the form took it once
        ("Ben", "+1 555 010 3000", True),        # international, with spaces
        ("Cy", "+15550104000", False),           # already E.164: left as it is
        ("Dee", "call dispatch", True),          # not a phone at all
        ("Eve", "", True),                       # none
        ("Fay", "555-0100", True),               # no area code
        ("Gus", "555.010.2000", True),           # the same number as Ana's, typed another way
    ]
    with migrated_to(tmp_path, "e2c7a4f9b1d6"):
        with db.engine.begin() as conn:
            for name, phone, active in typed:
                conn.execute(text("INSERT INTO couriers (name, phone, is_active, created_at) "
                                  "VALUES (:name, :phone, :active, '2026-01-01')"),
                             {"name": name, "phone": phone, "active": active})
        capsys.readouterr()
        upgrade()
        output = capsys.readouterr().err  # what `flask db upgrade` shows the operator
        with db.engine.connect() as conn:
            rows = _courier_rows(conn)
    assert rows == {
        "Ana": ("+15550102000", True), "Ben": ("+15550103000", True), "Cy": ("+15550104000", False),
        "Dee": ("call dispatch", True), "Eve": ("", True), "Fay": ("555-0100", True),
        "Gus": ("+15550102000", True),
    }
    warnings = [line for line in output.splitlines() if line.startswith("WARN")]
    assert len(warnings) == 4, warnings
    assert any("(Dee)" in w and "'call dispatch' kept as it is" in w for w in warnings)
    assert any("(Eve)" in w and "'' kept as it is" in w for w in warnings)
    assert any("(Fay)" in w and "Add the area code" in w for w in warnings)
    assert any("(Ana), " in w and "(Gus) now share the phone +15550102000" in w for w in warnings)


def test_stored_courier_phones_are_read_in_the_phone_region_the_app_reads(tmp_path, monkeypatch):
    monkeypatch.setenv("PHONE_REGION", "GB")
    with migrated_to(tmp_path, "e2c7a4f9b1d6"):
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO couriers (name, phone, is_active, created_at) "
                              "VALUES ('Hal', '020 7946 0958', true, '2026-01-01')"))
        upgrade()
        downgrade(revision="e2c7a4f9b1d6")  # a no-op: the number stays E.164
        with db.engine.connect() as conn:
            rows = _courier_rows(conn)
    assert rows == {"Hal": ("+442079460958", True)}

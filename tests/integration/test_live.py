"""The live publisher (app/live.py): only committed changes reach the board, each order
once per burst at its newest version, and one failed push never stops the others."""
import threading

import pytest
from sqlalchemy import text

from app import actions, live
from app.extensions import db, socketio


@pytest.fixture
def pushed(monkeypatch):
    """Every Socket.IO event the app emits, as (event, payload)."""
    sent = []
    monkeypatch.setattr(socketio, "emit", lambda event, data, **kw: sent.append((event, data)))
    return sent


def orders_pushed(pushed, order_id):
    return [data for event, data in pushed if event == "order" and data["id"] == order_id]


def test_a_committed_change_is_pushed_with_its_card(app, submitted, pushed):
    live.drain(app)
    pushed.clear()
    with app.app_context():
        actions.cancel(submitted, reason="OTHER", details=None, actor="staff:dana")
    assert live.drain(app)
    [update] = orders_pushed(pushed, submitted)
    assert (update["state"], update["column"], update["version"]) == ("cancelled", "exceptions", 2)
    assert f'data-order-id="{submitted}"' in update["html"]


def test_a_rolled_back_change_is_never_pushed(app, submitted, pushed):
    from app import orders

    live.drain(app)
    pushed.clear()
    with app.app_context():
        order = orders.get_for_update(submitted)
        orders.apply(order, lambda lc, o: lc.cancel(o, now=o.created_at, reason="OTHER", by="staff:dana"),
                     actor="staff:dana", event="cancel")
        db.session.rollback()
    assert live.drain(app)
    assert orders_pushed(pushed, submitted) == []


def test_changes_that_pile_up_while_a_push_is_built_go_out_once_at_the_newest_version(
        app, api, menu, pushed, monkeypatch, hook):
    from tests.conftest import order_body

    first, second = order_body(), order_body()
    building = threading.Event()
    release = threading.Event()
    real_builder = live.payload_builders["order"]

    def slow_builder(ids):
        building.set()
        release.wait(10)
        return real_builder(ids)

    monkeypatch.setitem(live.payload_builders, "order", slow_builder)
    assert api.create(first).status_code == 201  # the publisher starts building this one...
    assert building.wait(10)
    assert api.create(second).status_code == 201  # ...while these pile up
    hook.confirm(second["id"])
    hook.ready(second["id"])
    assert not live.drain(app, timeout=0.2)  # still blocked: drain says so
    release.set()
    assert live.drain(app)
    assert [u["version"] for u in orders_pushed(pushed, first["id"])] == [1]
    [update] = orders_pushed(pushed, second["id"])
    assert (update["state"], update["version"]) == ("ready", 3)


def test_a_push_that_cannot_be_built_does_not_stop_the_next(app, api, menu, pushed, monkeypatch):
    from tests.conftest import order_body

    broken, fine = order_body(), order_body()
    real_builder = live.payload_builders["order"]

    def builder(ids):
        if broken["id"] in ids:
            raise RuntimeError("template bug")
        return real_builder(ids)

    monkeypatch.setitem(live.payload_builders, "order", builder)
    assert api.create(broken).status_code == 201
    assert live.drain(app)
    assert api.create(fine).status_code == 201
    assert live.drain(app)
    assert orders_pushed(pushed, broken["id"]) == []
    assert [u["state"] for u in orders_pushed(pushed, fine["id"])] == ["submitted"]


def test_the_publisher_reads_while_another_writer_holds_sqlite(app, submitted, pushed, monkeypatch):
    """Its reads begin deferred, as a GET's do: a long write elsewhere does not hold back
    the pushes of changes already committed."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    lock_held = threading.Event()
    real_builder = live.payload_builders["order"]
    monkeypatch.setitem(live.payload_builders, "order", lambda ids: lock_held.wait(10) and real_builder(ids))
    live.drain(app, timeout=0)
    with app.app_context():
        actions.cancel(submitted, reason="OTHER", details=None, actor="staff:dana")
        writer = db.engine.connect()
        writer.execute(text("SELECT 1"))  # outside a request: BEGIN IMMEDIATE, the write lock
        lock_held.set()
        try:
            assert live.drain(app, timeout=5)  # busy_timeout is 30 s: a writer would still wait
        finally:
            writer.rollback()
            writer.close()
    assert [u["state"] for u in orders_pushed(pushed, submitted)][-1] == "cancelled"

"""Live pushes (app/infra/live.py): only committed changes reach the board; one changed order
goes out at commit, set-based changes through the publisher, each order once per burst at
its newest version, and one failed build never stops the others."""
import threading

import pytest
from sqlalchemy import text

from app.services import actions
from app.infra import live
from app.extensions import db, socketio
from tests.helpers import order_updates


def orders_pushed(pushed, order_id):
    return [card for event, data in pushed for card in order_updates(event, data) if card["id"] == order_id]


def test_a_committed_change_is_pushed_with_its_card_rendered_before_commit(app, submitted, pushed):
    live.drain(app)
    pushed.clear()
    with app.app_context():
        actions.cancel(submitted, reason="OTHER", details=None, actor="staff:dana")
    assert live.drain(app)
    [update] = orders_pushed(pushed, submitted)
    assert (update["state"], update["column"], update["version"]) == ("cancelled", "exceptions", 2)
    assert f'data-order-id="{submitted}"' in update["html"]


def test_a_change_returns_without_waiting_for_the_fan_out_to_the_boards(app, submitted, monkeypatch):
    """The publisher emits, not the request: a webhook's answer never waits on N boards
    (or on a slow Redis)."""
    live.drain(app)
    emitting, release, sent = threading.Event(), threading.Event(), []

    def slow_emit(event, data, **kw):
        emitting.set()
        release.wait(10)
        sent.append((event, data))

    monkeypatch.setattr(socketio, "emit", slow_emit)
    try:
        with app.app_context():
            actions.cancel(submitted, reason="OTHER", details=None, actor="staff:dana")
        assert emitting.wait(5)  # the publisher is inside the emit, the change has returned
        assert sent == []
    finally:
        release.set()
    assert live.drain(app)
    assert [card["version"] for event, data in sent for card in order_updates(event, data) if card["id"] == submitted] == [2]


def test_a_rolled_back_change_is_never_pushed(app, submitted, pushed):
    from app.services import orders
    from app.domain.lifecycle import Cancel

    live.drain(app)
    pushed.clear()
    with app.app_context():
        order = orders.get_for_update(submitted)
        orders.apply(order, Cancel(reason="OTHER", by="staff:dana"), actor="staff:dana")
        db.session.rollback()
    assert live.drain(app)
    assert orders_pushed(pushed, submitted) == []


def bulk_change(app, *order_ids):
    """What a set-based change does (the overdue tick): rows changed, their ids noted."""
    from app.models import Order

    with app.app_context():
        for order_id in order_ids:
            db.session.get(Order, order_id).version += 1
        live.orders_changed(db.session, order_ids)
        db.session.commit()


def test_a_set_based_change_is_pushed_by_the_publisher_after_commit(app, submitted, pushed):
    live.drain(app)
    pushed.clear()
    bulk_change(app, submitted)
    assert live.drain(app)
    [update] = orders_pushed(pushed, submitted)
    assert (update["version"], update["column"]) == (2, "submitted") and "data-order-id" in update["html"]


def test_ids_that_pile_up_while_the_publisher_builds_go_out_once_at_the_newest_version(
        app, api, menu, pushed, monkeypatch):
    from tests.helpers import order_body

    first, second = order_body()["id"], order_body()["id"]
    for order_id in (first, second):
        assert api.create(order_body(order_id)).status_code == 201
    building, release = threading.Event(), threading.Event()
    real_builder = live.of(app).order_cards

    def slow_builder(ids):
        building.set()
        release.wait(10)
        return real_builder(ids)

    monkeypatch.setattr(live.of(app), "order_cards", slow_builder)
    live.drain(app)  # the creations' own pushes are out before counting
    pushed.clear()
    bulk_change(app, first)  # the publisher starts building this one...
    assert building.wait(10)
    bulk_change(app, second)  # ...while these pile up
    bulk_change(app, second)
    assert not live.drain(app, timeout=0.2)  # still blocked: drain says so
    release.set()
    assert live.drain(app)
    assert [u["version"] for u in orders_pushed(pushed, first)] == [2]
    assert [u["version"] for u in orders_pushed(pushed, second)] == [3]


def test_a_batch_that_cannot_be_built_does_not_stop_the_next(app, api, menu, pushed, monkeypatch):
    from tests.helpers import order_body

    broken, fine = order_body()["id"], order_body()["id"]
    for order_id in (broken, fine):
        assert api.create(order_body(order_id)).status_code == 201
    real_builder = live.of(app).order_cards

    def builder(ids):
        if broken in ids:
            raise RuntimeError("template bug")
        return real_builder(ids)

    monkeypatch.setattr(live.of(app), "order_cards", builder)
    live.drain(app)  # the creations' own pushes are out before counting
    pushed.clear()
    bulk_change(app, broken)
    assert live.drain(app)
    bulk_change(app, fine)
    assert live.drain(app)
    assert orders_pushed(pushed, broken) == []
    assert [u["version"] for u in orders_pushed(pushed, fine)] == [2]


def test_the_publisher_reads_while_another_writer_holds_sqlite(app, submitted, pushed, monkeypatch):
    """Its reads begin deferred, as a GET's do: a long write elsewhere does not hold back
    the pushes of changes already committed."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    lock_held = threading.Event()
    real_builder = live.of(app).order_cards
    monkeypatch.setattr(live.of(app), "order_cards", lambda ids: lock_held.wait(10) and real_builder(ids))
    live.drain(app)  # the creations' own pushes are out before counting
    pushed.clear()
    bulk_change(app, submitted)
    with app.app_context():
        writer = db.engine.connect()
        writer.execute(text("SELECT 1"))  # outside a request: BEGIN IMMEDIATE, the write lock
        lock_held.set()
        try:
            assert live.drain(app, timeout=5)  # busy_timeout is 30 s: a writer would still wait
        finally:
            writer.rollback()
            writer.close()
    assert [u["version"] for u in orders_pushed(pushed, submitted)] == [2]


def test_a_redis_that_accepts_but_never_answers_does_not_hold_the_webhook(_database):
    """A stuck Redis (the connection accepted, no word after it) once held every webhook
    ~10 s, when the push went out in the request. The publisher publishes now: the change
    is committed and answered (a board catches up when it reloads)."""
    import socket

    from tests.helpers import Hook, make_app, order_body

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel accepts; nobody ever reads or answers
    stuck = make_app(_database, REDIS_URL=f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
    answers = []

    def change():
        client = stuck.test_client()
        hook = Hook(client)
        hook.menu("store-1", [{"name": "B", "items": [{"merchant_supplied_id": "burger", "name": "B", "price": 1}]}])
        body = order_body(categories=[{"name": "B", "items": [
            {"merchant_supplied_id": "burger", "quantity": 1, "price": 1}]}])
        answers.append(client.post("/api/orders", json=body, headers={"Authorization": "Bearer " + PLATFORM_KEY}))

    try:
        from tests.helpers import PLATFORM_KEY

        worker = threading.Thread(target=change, daemon=True)
        worker.start()
        worker.join(timeout=8)  # bounded: two webhooks at ~1 s of publish attempts each at most
        assert answers and answers[0].status_code == 201
    finally:
        silent.close()


def test_with_many_boards_open_changes_that_come_fast_share_a_wave(app, api, menu, pushed, monkeypatch):
    """Each event costs a frame per open board: with 1,000 boards and a budget of 1,000
    frames a second, waves are a second apart: the changes that come within one go out
    together in the next wave."""
    from tests.helpers import order_body

    ids = [order_body()["id"] for _ in range(5)]
    for order_id in ids:
        assert api.create(order_body(order_id)).status_code == 201
    assert live.drain(app)
    monkeypatch.setattr(live.of(app), "boards_open", lambda: 1000)
    monkeypatch.setattr(live, "FRAME_BUDGET", 1000)
    pushed.clear()
    cards = lambda: [(event, data) for event, data in pushed if event in ("order", "orders")]  # noqa: E731
    bulk_change(app, ids[0])
    assert live.drain(app)
    assert [event for event, _ in cards()] == ["order"]
    for order_id in ids[1:]:
        bulk_change(app, order_id)
    assert live.drain(app)
    assert [event for event, _ in cards()] == ["order", "orders"]  # four changes, one wave
    assert sorted(card["id"] for card in cards()[1][1]) == sorted(ids[1:])

"""The outbox delivers every call to OneTablet: through connection refusals and 503s with
Retry-After, one Idempotency-Key per message, an order's calls in order, 4xx final."""
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.services import actions
from app import outbox
from app.extensions import db
from app.models import Courier, Order, OutboxMessage, Refund
from tests.helpers import ONETABLET_KEY, order_body


@pytest.fixture
def app_config():
    return {"OUTBOX_BASE_DELAY_SECONDS": 1, "OUTBOX_MAX_DELAY_SECONDS": 4, "OUTBOX_MAX_ATTEMPTS": 20}


def messages(app, **where):
    with app.app_context():
        rows = db.session.execute(select(OutboxMessage).filter_by(**where).order_by(OutboxMessage.id)).scalars().all()
        db.session.expunge_all()
        return rows


def place(api, n=1, **kw):
    ids = []
    for _ in range(n):
        body = order_body(**kw)
        assert api.create(body).status_code == 201
        ids.append(body["id"])
    return ids


def test_onetablet_down_then_503_with_retry_after_then_up_every_call_arrives_once_keyed(
        app, api, menu, onetablet, outbox_worker, frozen_clock):
    first, second, third = place(api, 3)
    with app.app_context():
        courier = Courier(name="Mike Rivera", phone="+15559876543")
        db.session.add(courier)
        db.session.commit()
        actions.cancel(first, reason="OTHER", details="customer changed their mind", actor="staff:dana")
        actions.assign_courier(second, courier_id=courier.id, actor="staff:dana")
    frozen_clock.advance(seconds=1)

    # Down: connections refused. Only the create_orders are tried; the cancel and the
    # courier status wait behind their order's create_order.
    assert outbox_worker.drain() == 3
    creates = messages(app, kind="create_order")
    assert [m.attempts for m in creates] == [1, 1, 1]
    assert all("connection" in m.last_error for m in creates)
    assert [(m.kind, m.attempts) for m in messages(app) if m.kind != "create_order"] == [
        ("cancel", 0), ("delivery_status", 0)]

    # Up, but overloaded: 503 with Retry-After: 30, which is honoured to the second.
    onetablet.start()
    onetablet.fail_next(3, 503, retry_after="30")
    frozen_clock.advance(seconds=4)  # past the longest first backoff (base 1s)
    assert outbox_worker.drain() == 3
    for message in messages(app, kind="create_order"):
        assert (message.attempts, message.last_status_code, message.status) == (2, 503, "pending")
        assert message.next_attempt_at == frozen_clock.now + timedelta(seconds=30)
    frozen_clock.advance(seconds=29)
    assert outbox_worker.drain() == 0  # not a second early

    frozen_clock.advance(seconds=1)
    assert outbox_worker.drain() == 5  # three orders, then the cancel and the courier status
    sent = messages(app)
    assert [m.status for m in sent] == ["sent"] * 5

    keys = defaultdict(list)
    for call in onetablet.calls:
        keys[call.idempotency_key].append(call)
    assert set(keys) == {m.idempotency_key for m in sent}  # one key per message...
    for message in sent:
        calls = keys[message.idempotency_key]
        assert {(c.method, c.path) for c in calls} == {("POST", message.path)}  # ...across its retries
        assert all(c.headers["Authorization"] == f"Bearer {ONETABLET_KEY}" for c in calls)
        assert [c.status for c in calls] == ([503, 201] if message.kind == "create_order" else [200])

    # OneTablet's id is kept and sent in the later calls, which follow their create_order.
    with app.app_context():
        stored = {o.id: o.client_order_id for o in db.session.execute(select(Order)).scalars()}
    assert stored == {oid: onetablet.orders[oid].client_order_id for oid in (first, second, third)}
    paths = [c.path for c in onetablet.calls if c.status < 300]
    cancel = next(c for c in onetablet.calls if c.path.endswith("/cancel"))
    assert cancel.body == {"store": {"merchant_supplied_id": "store-1"}, "client_order_id": stored[first],
                           "reason": "OTHER: customer changed their mind"}
    assert paths.index(f"/orders/{first}/cancel") > paths.index("/orders")
    status = next(c for c in onetablet.calls if c.path.endswith("/delivery-status"))
    assert status.body == {"client_order_id": stored[second], "dasher_status": "dasher_confirmed",
                           "dasher": {"first_name": "Mike", "phone_number": "+15559876543"}}
    # The order went out exactly as the customer app sent it.
    created = {c.body["id"]: c.body for c in onetablet.calls if c.path == "/orders" and c.status == 201}
    assert created[third]["tip"] == 300 and created[third]["categories"][0]["items"][0]["options"]


def test_a_4xx_is_final_and_rejects_the_order_with_onetablets_reason(
        app, api, menu, onetablet, outbox_worker, frozen_clock):
    [order_id] = place(api)
    onetablet.start()
    onetablet.fail_next(1, 422, body={"error": "invalid_order", "detail": "store is not live on OneTablet"})
    frozen_clock.advance(seconds=1)
    assert outbox_worker.drain() == 1
    frozen_clock.advance(hours=1)
    assert outbox_worker.drain() == 0  # never tried again

    [message] = messages(app)
    assert (message.status, message.attempts, message.last_status_code) == ("failed", 1, 422)
    order = api.order(order_id)
    assert order["state"] == "rejected"
    assert order["failure_reason"] == ("OneTablet refused the create_order call (HTTP 422): "
                                       "store is not live on OneTablet")
    assert [c["kind"] for c in order["failed_calls"]] == ["create_order"]
    assert [(e["event"], e["actor"], e["from_state"], e["to_state"]) for e in order["timeline"]] == [
        ("submitted", "customer_app", None, "submitted"),
        ("call_failed", "onetablet", "submitted", "submitted"),
        ("rejected", "onetablet", "submitted", "rejected"),
    ]
    with app.app_context():
        assert db.session.execute(select(Refund.status).where(Refund.order_id == order_id)).scalar() == "pending"


def test_retries_give_up_after_the_maximum_attempts(app, api, menu, onetablet, outbox_worker, frozen_clock):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    [order_id] = place(api)
    onetablet.start()
    onetablet.fail_next(5, 503)
    for _ in range(3):
        frozen_clock.advance(seconds=5)
        assert outbox_worker.drain() == 1
    frozen_clock.advance(seconds=5)
    assert outbox_worker.drain() == 0
    [message] = messages(app)
    assert (message.status, message.attempts) == ("failed", 3)
    order = api.order(order_id)
    assert order["state"] == "rejected"
    assert order["failure_reason"] == ("OneTablet could not take the create_order call: "
                                       "gave up after 3 attempts (last: HTTP 503)")


def test_retries_give_up_once_the_hours_are_spent(app, api, menu, onetablet, outbox_worker, frozen_clock):
    app.config["OUTBOX_MAX_HOURS"] = 1
    place(api)
    frozen_clock.advance(seconds=1)
    assert outbox_worker.drain() == 1  # refused
    frozen_clock.advance(minutes=61)
    assert outbox_worker.drain() == 1  # refused again, and the hour is spent
    [message] = messages(app)
    assert (message.status, message.attempts) == ("failed", 2)


def test_429_with_an_http_date_is_waited_out(app, api, menu, onetablet, outbox_worker, frozen_clock):
    from email.utils import format_datetime

    place(api)
    onetablet.start()
    frozen_clock.advance(seconds=1)
    later = frozen_clock.now + timedelta(minutes=2)
    onetablet.fail_next(1, 429, retry_after=format_datetime(later, usegmt=True))
    assert outbox_worker.drain() == 1
    [message] = messages(app)
    assert message.next_attempt_at == later
    frozen_clock.advance(minutes=2)
    assert outbox_worker.drain() == 1
    assert messages(app)[0].status == "sent"


def test_a_failed_call_retried_by_hand_goes_out_again_and_is_audited(
        app, api, menu, onetablet, outbox_worker, frozen_clock):
    [order_id] = place(api)
    onetablet.start()
    frozen_clock.advance(seconds=1)
    outbox_worker.drain()
    with app.app_context():
        courier = Courier(name="Ana Lima", phone="+15550000001")
        db.session.add(courier)
        db.session.commit()
        actions.assign_courier(order_id, courier_id=courier.id, actor="staff:dana")
    onetablet.fail_next(1, 400, body={"error": "bad_request", "detail": "dasher phone missing"})
    frozen_clock.advance(seconds=1)
    outbox_worker.drain()
    failed = messages(app, kind="delivery_status")[0]
    assert failed.status == "failed"
    assert api.order(order_id)["failed_calls"][0]["last_status_code"] == 400

    with app.app_context():
        actions.retry_call(failed.id, actor="staff:dana")
    assert api.order(order_id)["failed_calls"] == []
    assert outbox_worker.drain() == 1
    assert messages(app, kind="delivery_status")[0].status == "sent"
    retried = [e for e in api.order(order_id)["timeline"] if e["event"] == "call_retried"]
    assert len(retried) == 1
    assert retried[0]["actor"] == "staff:dana" and retried[0]["from_state"] == retried[0]["to_state"]
    assert retried[0]["detail"]["kind"] == "delivery_status"
    # OneTablet refused it (400): nothing was done under that key, and a OneTablet that
    # keeps answers per key would only repeat the refusal. A new key, and it says so.
    resent = messages(app, kind="delivery_status")[0]
    assert resent.idempotency_key != failed.idempotency_key
    assert retried[0]["detail"]["idempotency_key"] == [failed.idempotency_key, resent.idempotency_key]
    keys = [c.idempotency_key for c in onetablet.calls if c.path.endswith("/delivery-status")]
    assert keys == [failed.idempotency_key, resent.idempotency_key]


def test_an_order_onetablet_refused_gets_a_new_key_by_hand_so_onetablet_does_not_replay_the_refusal(
        app, api, menu, onetablet, outbox_worker, frozen_clock):
    from devtools.restaurants import Restaurant

    # The simulator keeps every answer per Idempotency-Key, as OneTablet may.
    onetablet.restaurants = {"elsewhere": Restaurant("elsewhere", "Elsewhere", "UTC", [])}
    [order_id] = place(api)
    onetablet.start()
    outbox_worker.drain()
    [refused] = messages(app)
    assert (refused.status, refused.last_status_code) == ("failed", 404)  # unknown_store
    assert api.order(order_id)["state"] == "rejected"

    onetablet.restaurants["store-1"] = Restaurant("store-1", "Store 1", "UTC", [])  # the store goes live
    with app.app_context():
        actions.override(order_id, to_state="submitted", reason="store is live on OneTablet now",
                         actor="staff:manager")
        actions.retry_call(refused.id, actor="staff:manager")
    assert outbox_worker.drain() == 1
    [sent] = messages(app)
    assert (sent.status, sent.last_status_code) == ("sent", 201)
    assert [(c.idempotency_key, c.status) for c in onetablet.calls] == [
        (refused.idempotency_key, 404), (sent.idempotency_key, 201)]
    assert api.order(order_id)["state"] == "submitted" and order_id in onetablet.orders
    [retried] = [e for e in api.order(order_id)["timeline"] if e["event"] == "call_retried"]
    assert retried["detail"]["idempotency_key"] == [refused.idempotency_key, sent.idempotency_key]


@pytest.mark.parametrize("failure", ["503", "429", "down"])
def test_a_call_that_ran_out_of_retries_keeps_its_key_by_hand_as_onetablet_may_have_done_it(
        app, api, menu, onetablet, outbox_worker, frozen_clock, courier, failure):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    [order_id] = place(api)
    onetablet.start()
    outbox_worker.drain()
    with app.app_context():
        actions.assign_courier(order_id, courier_id=courier, actor="staff:dana")
    if failure == "down":
        onetablet.stop_api()
    else:
        onetablet.fail_next(2, int(failure))
    for _ in range(2):
        frozen_clock.advance(seconds=5)
        assert outbox_worker.drain() == 1
    [failed] = messages(app, kind="delivery_status")
    assert (failed.status, failed.attempts) == ("failed", 2)

    if failure == "down":
        onetablet.start()
    with app.app_context():
        actions.retry_call(failed.id, actor="staff:dana")
    assert outbox_worker.drain() == 1
    [sent] = messages(app, kind="delivery_status")
    assert (sent.status, sent.idempotency_key) == ("sent", failed.idempotency_key)
    assert {c.idempotency_key for c in onetablet.calls_to("/delivery-status")} == {failed.idempotency_key}
    [retried] = [e for e in api.order(order_id)["timeline"] if e["event"] == "call_retried"]
    assert "idempotency_key" not in retried["detail"]


def test_a_refused_order_is_not_resent_by_hand_while_it_is_rejected(
        app, api, menu, onetablet, outbox_worker, frozen_clock):
    place(api)
    onetablet.start()
    onetablet.fail_next(1, 422)
    frozen_clock.advance(seconds=1)
    outbox_worker.drain()
    [failed] = messages(app)
    with app.app_context():
        with pytest.raises(actions.ActionError, match="override it back to submitted"):
            actions.retry_call(failed.id, actor="staff:dana")
        with pytest.raises(actions.ActionError, match="only a failed call"):
            message = messages(app)[0]
            db.session.execute(OutboxMessage.__table__.update().values(status="sent"))
            db.session.commit()
            actions.retry_call(message.id, actor="staff:dana")


def test_later_calls_of_an_order_onetablet_never_took_are_failed_not_sent(
        app, api, menu, onetablet, outbox_worker, frozen_clock):
    [order_id] = place(api)
    with app.app_context():
        actions.cancel(order_id, reason="OTHER", details=None, actor="staff:dana")
    onetablet.start()
    onetablet.fail_next(1, 422)
    frozen_clock.advance(seconds=1)
    outbox_worker.drain()
    assert [(m.kind, m.status) for m in messages(app)] == [("create_order", "failed"), ("cancel", "failed")]
    assert [c.path for c in onetablet.calls] == ["/orders"]


def test_a_call_that_gives_up_is_pushed_live_so_the_card_shows_it(
        app, api, menu, onetablet, outbox_worker, frozen_clock, monkeypatch):
    from app.infra import live

    pushed = []
    monkeypatch.setattr(live.socketio, "emit", lambda event, payload, **kw: pushed.append((event, payload)))
    [order_id] = place(api)
    before = api.order(order_id)["version"]
    live.drain(app)
    pushed.clear()
    onetablet.start()
    onetablet.fail_next(1, 409, body={"error": "conflict", "detail": "order already exists"})
    outbox_worker.drain()
    live.drain(app)
    orders_pushed = [p for e, p in pushed if e == "order" and p["id"] == order_id]
    assert len(orders_pushed) == 1  # one push for the commit: badge and rejection together
    assert orders_pushed[0]["state"] == "rejected" and orders_pushed[0]["version"] > before

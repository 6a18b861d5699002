"""Customer notifications go through the outbox to CUSTOMER_WEBHOOK_URL, signed the
Standard Webhooks way with CUSTOMER_WEBHOOK_SECRET, in the order things happened."""
import json
import threading

import pytest
from flask import Flask, request
from werkzeug.datastructures import Headers
from werkzeug.serving import make_server

from app.services import actions
from app.extensions import db
from app.models import Courier
from app.infra.signing import new_secret, verify
from tests.helpers import order_body

CUSTOMER_SECRET = new_secret()


class CustomerApp:
    """The customer app's webhook endpoint: records what arrives; answers `status`."""

    def __init__(self):
        self.received, self.status = [], 200
        app = Flask("customer_app")

        @app.post("/hooks/passline")
        def receive():
            self.received.append((Headers(request.headers), request.get_data()))
            return {"ok": True}, self.status

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/passline"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self, order_id=None):
        bodies = [json.loads(raw) for _, raw in self.received]
        return [b for b in bodies if order_id is None or b["order_id"] == order_id]


@pytest.fixture
def customer_app():
    customer = CustomerApp()
    yield customer
    customer.server.shutdown()


@pytest.fixture
def app_config():
    return {"CUSTOMER_WEBHOOK_SECRET": CUSTOMER_SECRET, "CUSTOMER_WEBHOOK_URL": "http://127.0.0.1:9/"}


def test_the_customer_hears_of_each_step_signed_and_in_order(
        app, api, hook, menu, onetablet, outbox_worker, customer_app):
    app.config["CUSTOMER_WEBHOOK_URL"] = customer_app.url
    delivered, rejected, cancelled = (order_body(f"o-{n}") for n in ("d", "r", "c"))
    for body in (delivered, rejected, cancelled):
        assert api.create(body).status_code == 201
    assert hook.confirm("o-d", prep_time="2026-11-28T18:30:00Z").status_code == 200
    assert hook.ready("o-d").status_code == 200
    assert hook.reject("o-r", reason="Store is currently closed").status_code == 200
    assert hook.confirm("o-c").status_code == 200
    assert hook.cancel("o-c", reason="ITEM_OUT_OF_STOCK", details="no more fries").status_code == 200
    with app.app_context():
        courier = Courier(name="Mike Rivera", phone="+15559876543")
        db.session.add(courier)
        db.session.commit()
        actions.assign_courier("o-d", courier_id=courier.id, actor="staff:dana")
        actions.courier_status("o-d", status="dasher_out_for_delivery", actor="staff:dana")
        actions.courier_status("o-d", status="dropoff", actor="staff:dana")
    onetablet.start()
    outbox_worker.drain()

    assert [(b["type"], b["state"]) for b in customer_app.bodies("o-d")] == [
        ("order.confirmed", "confirmed"), ("order.ready", "ready"),
        ("order.picked_up", "in_transit"), ("order.completed", "completed")]
    confirmed = customer_app.bodies("o-d")[0]
    assert confirmed["ready_time"] == "2026-11-28T18:30:00+00:00"
    assert customer_app.bodies("o-r") == [{"type": "order.rejected", "order_id": "o-r", "state": "rejected",
                                           "reason": "Store is currently closed"}]
    assert customer_app.bodies("o-c")[-1] == {"type": "order.cancelled", "order_id": "o-c", "state": "cancelled",
                                              "reason": "ITEM_OUT_OF_STOCK", "details": "no more fries"}
    for headers, raw in customer_app.received:
        assert verify(CUSTOMER_SECRET, raw, headers) == headers["Idempotency-Key"]  # webhook-id = the key


def test_a_customer_webhook_that_fails_is_retried_under_the_same_webhook_id(
        app, api, hook, menu, onetablet, outbox_worker, customer_app, frozen_clock):
    app.config["CUSTOMER_WEBHOOK_URL"] = customer_app.url
    assert api.create(order_body("o-1")).status_code == 201
    assert hook.reject("o-1").status_code == 200
    onetablet.start()
    customer_app.status = 503
    outbox_worker.drain()
    customer_app.status = 200
    frozen_clock.advance(minutes=30)
    outbox_worker.drain()
    ids = [headers["webhook-id"] for headers, _ in customer_app.received]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert api.order("o-1")["failed_calls"] == []

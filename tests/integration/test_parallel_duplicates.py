"""Duplicates arriving at the same instant against a real threaded server: the database's
unique key decides, so exactly one applies (on SQLite and on PostgreSQL)."""
import json
import threading

import pytest
import requests

from app.extensions import db
from app.models import OrderEvent, OutboxMessage, WebhookReceipt
from tests.helpers import PLATFORM_KEY, order_body, signed_headers

PARALLEL = 20


def at_once(count, send):
    """Run `send(i)` in `count` threads released together; return the answers."""
    barrier = threading.Barrier(count)
    answers = [None] * count

    def worker(i):
        barrier.wait(timeout=10)
        answers[i] = send(i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return answers


@pytest.mark.parametrize("same_webhook_id", [True, False])
def test_twenty_identical_webhooks_in_parallel_apply_once(app, live_server, submitted, same_webhook_id):
    body = json.dumps({"merchant_supplied_id": "R-9", "order_status": "success"})
    url = f"{live_server.url}/onetablet/orders/{submitted}"

    def send(i):
        webhook_id = "msg_dup" if same_webhook_id else f"msg_dup_{i}"
        return requests.patch(url, data=body, headers=signed_headers(body, webhook_id=webhook_id), timeout=30)

    answers = at_once(PARALLEL, send)
    assert [a.status_code for a in answers] == [200] * PARALLEL
    assert sorted(a.json()["status"] for a in answers) == ["applied"] + ["duplicate"] * (PARALLEL - 1)
    with app.app_context():
        events = db.session.query(OrderEvent).filter_by(order_id=submitted, event="confirmed").count()
        kept = db.session.query(WebhookReceipt).filter_by(order_id=submitted).count()
    assert (events, kept) == (1, PARALLEL)


def test_the_same_order_posted_twenty_times_in_parallel_is_created_once(app, live_server, menu):
    body = order_body("parallel-1")

    def send(_):
        return requests.post(f"{live_server.url}/api/orders", json=body,
                             headers={"Authorization": f"Bearer {PLATFORM_KEY}"}, timeout=30)

    codes = sorted(a.status_code for a in at_once(PARALLEL, send))
    assert codes == [200] * (PARALLEL - 1) + [201]
    with app.app_context():
        assert db.session.query(OutboxMessage).filter_by(order_id="parallel-1").count() == 1
        assert db.session.query(OrderEvent).filter_by(order_id="parallel-1").count() == 1


def test_different_events_racing_on_one_order_all_apply_in_some_order(app, live_server, submitted):
    """ready and cancellation at the same instant: one wins, the other is applied or refused,
    never lost, and the audit trail agrees with the final state."""
    url = live_server.url + "/onetablet/orders/" + submitted
    sends = [(url + "/events/order_ready_for_pickup", {"merchant_supplied_id": "R"}),
             (url + "/cancellation", {"cancel_reason": "KITCHEN_BUSY"})] * 5

    def send(i):
        target, payload = sends[i]
        raw = json.dumps(payload)
        return requests.patch(target, data=raw, headers=signed_headers(raw), timeout=30)

    codes = [a.status_code for a in at_once(len(sends), send)]
    assert set(codes) <= {200, 409}
    with app.app_context():
        moves = [(e.from_state, e.to_state) for e in
                 db.session.query(OrderEvent).filter_by(order_id=submitted).order_by(OrderEvent.id)
                 if not e.refused]
    # a chain: each step starts where the previous ended, and ends cancelled
    assert all(a[1] == b[0] for a, b in zip(moves, moves[1:]))
    assert moves[-1][1] == "cancelled"

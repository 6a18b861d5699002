"""A Passline process SIGKILLed in the middle of a webhook load, then started again: nothing
it answered 200 is lost, and OneTablet's retries of the rest complete the orders."""
from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, OrderEvent, WebhookReceipt
from bench import load, traffic

pytestmark = pytest.mark.slow


def _wait_for_receipts(app, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            if db.session.execute(select(func.count()).select_from(WebhookReceipt)).scalar() >= count:
                return
            db.session.rollback()
            time.sleep(0.02)
    raise AssertionError(f"fewer than {count} webhooks received in {timeout}s")


def test_every_webhook_answered_200_survives_a_sigkill_and_the_restart_finishes_the_rest(
        app, passline_servers):
    server = passline_servers()
    order_ids = traffic.new_ids(200, "chaos")
    traffic.create_orders(server.url, order_ids)
    jobs = [[traffic.confirm(i), traffic.ready(i)] for i in order_ids]
    outcome = {}
    sender = threading.Thread(target=lambda: outcome.update(result=load.run(server.url, jobs, 50, timeout=10)))
    sender.start()
    _wait_for_receipts(app, 1 + 130)  # the menu's receipt, then a third of the load
    server.kill()
    sender.join(60)
    answers = outcome["result"].answers
    ok = [a for a in answers if a.status == 200]
    assert ok and len(ok) < len(answers), "the kill must land in the middle of the load"
    assert {a.status for a in answers} <= {200, 0}, "a webhook was answered with an error"

    restarted = passline_servers()
    with app.app_context():
        receipts = set(db.session.execute(
            select(WebhookReceipt.webhook_id).where(WebhookReceipt.status_code == 200)).scalars())
        audited = {(r.order_id, json.dumps(r.payload, sort_keys=True)) for r in db.session.execute(
            select(OrderEvent.order_id, OrderEvent.payload).where(OrderEvent.actor == "onetablet"))}
        db.session.rollback()
    for answer in ok:
        request = answer.request
        assert request.headers["webhook-id"] in receipts
        order_id = request.path.split("/")[3]
        assert (order_id, json.dumps(json.loads(request.body), sort_keys=True)) in audited

    # OneTablet retries what got no answer (same webhook-id), and every order completes.
    unanswered = [[a.request] for a in answers if a.status != 200]
    unsent = {id(r) for job in jobs for r in job} - {id(a.request) for a in answers}
    retries = unanswered + [[r] for job in jobs for r in job if id(r) in unsent]
    retry = load.run(restarted.url, retries, 20)
    assert set(retry.statuses) == {200}, restarted.log_tail()
    with app.app_context():
        states = set(db.session.execute(select(Order.state).where(Order.id.in_(order_ids))).scalars())
    assert states == {"ready"}

"""Two serving processes (gunicorn, production settings) on one database, each with its
outbox worker: every call goes out, and no message is sent by both."""
from collections import Counter

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxMessage
from bench import traffic
from tests.helpers import ONETABLET_KEY, wait_for

pytestmark = pytest.mark.slow
ORDERS = 100


def sent(app) -> int:
    with app.app_context():
        count = db.session.execute(select(func.count()).select_from(OutboxMessage)
                                   .where(OutboxMessage.status == "sent")).scalar()
        db.session.rollback()
        return count


def test_two_processes_sending_one_outbox_send_each_message_once(app, passline_servers, onetablet):
    onetablet.behaviour.error_odds = 0.2  # some 503s, so messages are retried and claimed again
    onetablet.start()
    env = dict(PASSLINE_OUTBOX_WORKER="auto", ONETABLET_API_URL=onetablet.url, ONETABLET_API_KEY=ONETABLET_KEY,
               OUTBOX_BASE_DELAY_SECONDS="0.2", OUTBOX_MAX_DELAY_SECONDS="1", OUTBOX_POLL_SECONDS="0.2",
               OUTBOX_MAX_ATTEMPTS="1000")
    servers = [passline_servers(**env), passline_servers(**env)]
    order_ids = traffic.new_ids(ORDERS, "two")
    traffic.create_orders([s.url for s in servers], order_ids)  # spread over both
    assert wait_for(lambda: sent(app) == ORDERS, timeout=60), sent(app)

    accepted = Counter(call.idempotency_key for call in onetablet.calls if call.status == 201)
    assert len(accepted) == ORDERS and set(accepted.values()) == {1}
    assert sorted(onetablet.orders) == sorted(order_ids)
    with app.app_context():
        attempts = db.session.execute(select(func.sum(OutboxMessage.attempts))).scalar()
    assert attempts == len(onetablet.calls)  # every call OneTablet saw is one recorded attempt

"""Several senders — threads of several workers, as in several processes — never send one
message twice; a dead sender's lease runs out; a commit wakes the worker at once."""
import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select, update

from app.infra import clock
from app.extensions import db
from app.models import OutboxMessage
from app.outbox.sender import Worker
from tests.helpers import order_body, wait_for



def sent_count(app) -> int:
    with app.app_context():
        return db.session.execute(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")).scalar()


def test_many_senders_in_several_workers_send_each_message_exactly_once(app, api, menu, onetablet):
    app.config["OUTBOX_POLL_SECONDS"] = 0.05
    for _ in range(60):
        assert api.create(order_body()).status_code == 201
    onetablet.start()
    workers = [Worker(app, senders=3, name=f"process-{n}") for n in range(3)]
    try:
        for worker in workers:
            worker.start()
        assert wait_for(lambda: sent_count(app) == 60, timeout=30)
    finally:
        for worker in workers:
            worker.stop()
    per_key = Counter(call.idempotency_key for call in onetablet.calls)
    assert len(per_key) == 60
    assert set(per_key.values()) == {1}
    with app.app_context():
        senders = db.session.execute(select(OutboxMessage.response)).scalars().all()
    assert all(r["status"] == 201 for r in senders)


def test_drains_racing_on_the_same_messages_claim_each_once(app, api, menu, onetablet):
    for _ in range(30):
        assert api.create(order_body()).status_code == 201
    onetablet.start()
    workers = [Worker(app, senders=0, name=f"racer-{n}") for n in range(4)]
    counts = []
    threads = [threading.Thread(target=lambda w=w: counts.append(w.drain())) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(counts) == 30
    assert len(onetablet.calls) == 30


def test_a_message_leased_by_a_sender_that_died_goes_out_once_the_lease_runs_out(
        app, api, menu, onetablet, outbox_worker, frozen_clock):
    assert api.create(order_body()).status_code == 201
    onetablet.start()
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(
            locked_by="dead-process/0", locked_until=clock.now() + timedelta(seconds=60)))
        db.session.commit()
    assert outbox_worker.drain() == 0  # still leased: the dead sender might be sending
    frozen_clock.advance(seconds=61)
    assert outbox_worker.drain() == 1
    with app.app_context():
        message = db.session.execute(select(OutboxMessage)).scalar_one()
        assert (message.status, message.locked_by, message.attempts) == ("sent", None, 1)


def test_a_commit_that_queues_a_call_wakes_the_worker_without_waiting_for_the_poll(
        app, api, menu, onetablet):
    app.config["OUTBOX_POLL_SECONDS"] = 600  # only the after-commit wake can send in time
    onetablet.start()
    worker = Worker(app, senders=1, name="awake").start()
    try:
        assert wait_for(lambda: worker.passes >= 1)  # the start-up look is over: it sleeps on its poll
        assert api.create(order_body()).status_code == 201
        assert wait_for(lambda: len(onetablet.calls) == 1, timeout=10)
    finally:
        worker.stop()

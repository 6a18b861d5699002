"""Whatever OneTablet answers, the attempt is recorded: a Retry-After too far away or not
a number, or an answer Passline fails to handle, never leaves a message untouched to be
sent again and again without anyone seeing it fail."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMessage
from tests.helpers import order_body


@pytest.fixture
def app_config():
    return {"OUTBOX_BASE_DELAY_SECONDS": 1, "OUTBOX_MAX_DELAY_SECONDS": 4, "OUTBOX_MAX_ATTEMPTS": 5,
            "OUTBOX_MAX_HOURS": 1}


def messages(app):
    with app.app_context():
        rows = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        db.session.expunge_all()
        return rows


def place(api):
    body = order_body()
    assert api.create(body).status_code == 201
    return body["id"]


@pytest.mark.parametrize("retry_after", [
    "99999999999999",  # past what a timedelta holds
    "9" * 400,  # past what a float holds
    "300000000000",  # a timedelta, but past year 9999 from now
    "3601",  # merely past the hour we keep trying
    "Fri, 31 Dec 9999 23:59:59 GMT",
])
def test_a_retry_after_past_the_give_up_time_gives_up_now_and_says_why(
        app, api, menu, onetablet, outbox_worker, frozen_clock, retry_after):
    order_id = place(api)
    onetablet.start()
    onetablet.fail_next(1, 503, retry_after=retry_after)
    assert outbox_worker.drain() == 1
    [message] = messages(app)
    assert (message.status, message.attempts, message.last_status_code) == ("failed", 1, 503)
    assert message.locked_by is None and message.last_error.startswith("HTTP 503")
    order = api.order(order_id)
    assert order["state"] == "rejected"  # staff see it now, not in an hour
    assert order["failure_reason"].startswith("OneTablet could not take the create_order call: it asked to wait")
    assert "past the 1 h Passline keeps trying" in order["failure_reason"]
    assert [c["kind"] for c in order["failed_calls"]] == ["create_order"]
    frozen_clock.advance(hours=2)
    assert outbox_worker.drain() == 0
    assert len(onetablet.calls) == 1


def test_a_retry_after_within_the_give_up_time_is_waited_out_to_the_second(
        app, api, menu, onetablet, outbox_worker, frozen_clock):
    place(api)
    onetablet.start()
    onetablet.fail_next(1, 503, retry_after="3599")
    assert outbox_worker.drain() == 1
    [message] = messages(app)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == frozen_clock.now + timedelta(seconds=3599)


@pytest.mark.parametrize("retry_after", ["²", "¹²", "1.5", "12abc", "+5", "0x10", "Blursday"])
def test_a_retry_after_that_is_not_ascii_digits_or_a_date_is_ignored_for_the_usual_backoff(
        app, api, menu, onetablet, outbox_worker, frozen_clock, retry_after):
    place(api)
    onetablet.start()
    onetablet.fail_next(1, 503, retry_after=retry_after)
    assert outbox_worker.drain() == 1
    assert onetablet.calls[0].status == 503
    [message] = messages(app)
    assert (message.status, message.attempts, message.last_status_code) == ("pending", 1, 503)
    assert message.locked_by is None
    assert frozen_clock.now <= message.next_attempt_at <= frozen_clock.now + timedelta(seconds=1)  # base 1 s
    frozen_clock.advance(seconds=1)
    assert outbox_worker.drain() == 1
    assert messages(app)[0].status == "sent"


def test_an_answer_passline_fails_to_handle_still_counts_as_an_attempt_and_gives_up_in_the_end(
        app, api, menu, onetablet, outbox_worker, frozen_clock, monkeypatch):
    from app.outbox import sender as outbox_sender

    def broken(response):
        raise RuntimeError("cannot read this answer")

    monkeypatch.setattr(outbox_sender, "_response_record", broken)
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    order_id = place(api)
    onetablet.start()
    onetablet.fail_next(3, 503)
    assert outbox_worker.drain() == 1  # no exception out of the pass
    [message] = messages(app)
    assert (message.status, message.attempts, message.last_status_code) == ("pending", 1, 503)
    assert "RuntimeError: cannot read this answer" in message.last_error
    assert message.locked_by is None and message.locked_until is None
    assert frozen_clock.now <= message.next_attempt_at <= frozen_clock.now + timedelta(seconds=1)
    assert outbox_worker.drain() == 0  # backing off, not re-sent at once

    for attempts in (2, 3):
        frozen_clock.advance(seconds=4)
        assert outbox_worker.drain() == 1
        assert messages(app)[0].attempts == attempts
    [message] = messages(app)
    assert message.status == "failed"
    order = api.order(order_id)
    assert order["state"] == "rejected"
    assert [(c["kind"], c["attempts"]) for c in order["failed_calls"]] == [("create_order", 3)]
    frozen_clock.advance(hours=2)
    assert outbox_worker.drain() == 0


def test_when_even_giving_up_fails_the_message_is_still_marked_failed(
        app, api, menu, onetablet, outbox_worker, frozen_clock, monkeypatch):
    from app.services import orders
    from app.outbox import retry_policy

    def broken(*args, **kwargs):
        raise RuntimeError("broken")

    monkeypatch.setattr(retry_policy, "judge", broken)
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    place(api)
    monkeypatch.setattr(orders, "apply", broken)  # the give-up path's audit row
    onetablet.start()
    assert outbox_worker.drain() == 1
    [message] = messages(app)
    assert (message.status, message.attempts, message.locked_by) == ("failed", 1, None)
    assert message.failed_at == frozen_clock.now
    assert "RuntimeError: broken" in message.last_error
    frozen_clock.advance(hours=2)
    assert outbox_worker.drain() == 0

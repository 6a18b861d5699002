"""A run of repeated failures is logged once in full, then as spaced one-line reminders,
and its end once (app/infra/outage.py). Time is a fake monotonic clock: no sleeping."""
import logging

from sqlalchemy.exc import OperationalError

from app.infra.outage import Failures

log = logging.getLogger("test.outage")


class Ticks:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def database_down():
    return OperationalError("SELECT 1", {}, Exception("connection refused"))


def fail(failures, error, source=None):
    try:
        raise error
    except Exception as caught:
        failures.failed(caught, "next look in 2s", source=source)


def test_a_long_outage_logs_one_traceback_spaced_reminders_and_its_end(caplog):
    ticks = Ticks()
    failures = Failures(log, "outbox worker w", monotonic=ticks)
    caplog.set_level(logging.INFO, logger="test.outage")
    for _ in range(3600):  # one hour of failures every second
        fail(failures, database_down())
        ticks.now += 1
    records = caplog.records
    assert records[0].exc_info and "outbox worker w failed; next look in 2s" in records[0].getMessage()
    assert all(r.exc_info is None for r in records[1:])  # one traceback
    # a reminder each minute for the first ten, then each ten minutes: 9 + 5
    assert len(records) == 1 + 9 + 5
    assert "still failing after 60 s (61 failures)" in records[1].getMessage()
    caplog.clear()
    failures.succeeded()
    failures.succeeded()
    [recovered] = caplog.records
    assert recovered.getMessage() == "outbox worker w: database reachable again after 3600 s (3600 failures)"


def test_a_different_failure_during_an_outage_is_logged_in_full(caplog):
    ticks = Ticks()
    failures = Failures(log, "job overdue", monotonic=ticks)
    caplog.set_level(logging.INFO, logger="test.outage")
    for error in (database_down(), database_down(), ValueError("bug"), ValueError("bug"), database_down()):
        fail(failures, error)
        ticks.now += 1
    assert [r.exc_info is not None for r in caplog.records] == [True, True]
    assert "ValueError" in caplog.records[1].exc_text


def test_a_new_outage_after_recovery_is_logged_in_full_again(caplog):
    ticks = Ticks()
    failures = Failures(log, "job overdue", monotonic=ticks)
    caplog.set_level(logging.INFO, logger="test.outage")
    fail(failures, ValueError("bug"))
    ticks.now += 30
    failures.succeeded()
    fail(failures, ValueError("bug"))
    messages = [r.getMessage() for r in caplog.records]
    assert messages[1] == "job overdue: working again after 30 s (1 failures)"
    assert len(messages) == 3 and caplog.records[2].exc_info


def test_an_outage_shared_by_threads_ends_when_the_last_failing_one_works_again(caplog):
    """Three senders fail; two work again; the third's try, begun before the recovery,
    fails after it: still the same outage, and its end is logged once, by the last."""
    ticks = Ticks()
    failures = Failures(log, "outbox worker w", monotonic=ticks)
    caplog.set_level(logging.INFO, logger="test.outage")
    for sender in ("w/0", "w/1", "w/2"):
        fail(failures, database_down(), sender)
    ticks.now += 5
    failures.succeeded("w/0")
    failures.succeeded("w/1")
    fail(failures, database_down(), "w/2")
    assert len(caplog.records) == 1 and failures.failing
    failures.succeeded("w/2")
    assert [r.getMessage() for r in caplog.records[1:]] \
        == ["outbox worker w: database reachable again after 5 s (4 failures)"]
    assert not failures.failing

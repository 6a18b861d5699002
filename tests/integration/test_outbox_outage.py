"""With the database down the outbox senders log the outage once, not a traceback per
poll, and say when it is reachable again (SRE audit)."""
import logging
import threading

from app.outbox.sender import Worker
from tests.helpers import make_app, wait_for

SENDERS = 4


def test_senders_polling_an_unreachable_database_log_it_once_then_its_recovery(_database, caplog, monkeypatch):
    broken = make_app("postgresql+psycopg://nobody@127.0.0.1:1/none", OUTBOX_POLL_SECONDS=0.005)
    caplog.set_level(logging.INFO, logger="app.outbox.sender")
    worker = Worker(broken, senders=SENDERS, name="outage-w")
    down = threading.Event()
    down.set()
    failed_senders = set()
    really_drain = worker.drain

    def drain(client=None, sender=None):
        """The real pass against the unreachable database until the test ends the outage;
        a pass begun before that may still fail after it, as in a real recovery."""
        if not down.is_set():
            return 0  # the database is back
        try:
            return really_drain(client, sender)
        except Exception:
            failed_senders.add(sender)
            raise

    monkeypatch.setattr(worker, "drain", drain)
    worker.start()
    try:
        assert wait_for(lambda: worker.passes >= 60 and len(failed_senders) == SENDERS)  # each sender failed
        failed = mine(caplog)
        assert len(failed) == 1 and failed[0].exc_info, [r.getMessage() for r in failed]
        assert "outbox worker outage-w failed; sender outage-w/" in failed[0].getMessage()
        down.clear()
        assert wait_for(lambda: any("reachable again" in r.getMessage() for r in mine(caplog)))
        passes = worker.passes
        assert wait_for(lambda: worker.passes >= passes + 2 * SENDERS)  # every sender went round again
    finally:
        worker.stop()
    messages = [r.getMessage() for r in mine(caplog)]
    assert len(messages) == 2 and messages[1].startswith("outbox worker outage-w: database reachable again after")


def mine(caplog) -> list:
    """This worker's records: other tests' workers may still be winding down meanwhile."""
    return [r for r in caplog.records
            if r.name == "app.outbox.sender" and r.getMessage().startswith("outbox worker outage-w")]

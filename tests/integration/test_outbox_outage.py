"""With the database down the outbox senders log the outage once, not a traceback per
poll, and say when it is reachable again (SRE audit)."""
import logging

from app.onetablet.worker import Worker
from tests.conftest import make_app, wait_for


def test_senders_polling_an_unreachable_database_log_it_once_then_its_recovery(_database, caplog, monkeypatch):
    broken = make_app("postgresql+psycopg://nobody@127.0.0.1:1/none", OUTBOX_POLL_SECONDS=0.005)
    caplog.set_level(logging.INFO, logger="app.onetablet.worker")
    worker = Worker(broken, senders=4, name="outage-w").start()
    try:
        assert wait_for(lambda: worker.passes >= 60)  # 60 failed passes of 4 senders
        failed = mine(caplog)
        assert len(failed) == 1 and failed[0].exc_info, [r.getMessage() for r in failed]
        assert "outbox worker outage-w failed; sender outage-w/" in failed[0].getMessage()
        monkeypatch.setattr(worker, "drain", lambda *a, **kw: 0)  # the database is back
        assert wait_for(lambda: any("reachable again" in r.getMessage() for r in mine(caplog)))
    finally:
        worker.stop()
    messages = [r.getMessage() for r in mine(caplog)]
    assert len(messages) == 2 and messages[1].startswith("outbox worker outage-w: database reachable again after")


def mine(caplog) -> list:
    """This worker's records: other tests' workers may still be winding down meanwhile."""
    return [r for r in caplog.records
            if r.name == "app.onetablet.worker" and r.getMessage().startswith("outbox worker outage-w")]

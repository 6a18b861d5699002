"""Nothing queued is lost when a serving process is SIGKILLed: 200 calls to OneTablet are
queued while it is down, the process dies mid-retry, a new one starts, OneTablet comes
back, and all 200 arrive — each once."""
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter

import pytest
import requests
from sqlalchemy import func, select

from app.infra import clock
from app.extensions import db
from app.models import Order, OutboxMessage
from tests.helpers import ONETABLET_KEY, PLATFORM_KEY, WEBHOOK_SECRET, free_port, order_body, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ORDERS = 200


class Passline:
    """`flask --app wsgi run` in its own process group: the embedded default of contract §6,
    serving with its outbox worker."""

    def __init__(self, env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="passline-kill-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(self.port), "--no-reload"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        if not wait_for(self._up, timeout=30):
            self.kill()
            raise RuntimeError(f"Passline did not start:\n{self.output()}")

    def _up(self) -> bool:
        assert self.process.poll() is None, self.output()
        try:
            return requests.get(self.url + "/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def output(self) -> str:
        with open(self.log.name, errors="replace") as f:
            return f.read()[-4000:]


@pytest.fixture
def passline_env(app, onetablet):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OVERDUE_", "PASSLINE_", "OUTBOX_", "FLASK_"))}
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY="kill-test",
        PLATFORM_API_KEY=PLATFORM_KEY, ONETABLET_API_KEY=ONETABLET_KEY, ONETABLET_WEBHOOK_SECRET=WEBHOOK_SECRET,
        ONETABLET_API_URL=onetablet.url, PASSLINE_SCHEDULER="off", PASSLINE_OUTBOX_WORKER="auto",
        # Fast retries so the test is quick; many allowed so nothing gives up while down.
        OUTBOX_BASE_DELAY_SECONDS="1", OUTBOX_MAX_DELAY_SECONDS="4", OUTBOX_MAX_ATTEMPTS="10000",
        OUTBOX_POLL_SECONDS="0.25", OUTBOX_LOCK_SECONDS="3",
        OUTBOX_CONNECT_TIMEOUT_SECONDS="0.5", OUTBOX_READ_TIMEOUT_SECONDS="2",
    )
    return env


def outbox_state(app) -> dict:
    with app.app_context():
        rows = db.session.execute(select(OutboxMessage.status, OutboxMessage.attempts,
                                         OutboxMessage.locked_until)).all()
        db.session.rollback()
    now = clock.now()
    return {"statuses": Counter(r.status for r in rows), "attempts": sum(r.attempts for r in rows),
            "tried": sum(1 for r in rows if r.attempts), "leased": sum(1 for r in rows if r.locked_until
                                                                      and r.locked_until > now)}


@pytest.mark.slow
def test_sigkill_with_200_calls_queued_while_onetablet_is_down_loses_none(app, menu, onetablet, passline_env):
    began = time.monotonic()
    first = Passline(passline_env)
    try:
        http = requests.Session()
        ids = []
        for _ in range(ORDERS):
            body = order_body()
            response = http.post(first.url + "/api/orders", json=body,
                                 headers={"Authorization": f"Bearer {PLATFORM_KEY}"}, timeout=10)
            assert response.status_code == 201, response.text
            ids.append(body["id"])
        # OneTablet refuses connections; the worker keeps retrying every message.
        assert wait_for(lambda: outbox_state(app)["tried"] == ORDERS, timeout=30), outbox_state(app)
    finally:
        first.kill()
    queued_in = time.monotonic() - began
    at_kill = outbox_state(app)
    assert at_kill["statuses"] == {"pending": ORDERS}

    started = time.monotonic()
    second = Passline(passline_env)
    try:
        onetablet.start()
        assert wait_for(lambda: outbox_state(app)["statuses"].get("sent") == ORDERS, timeout=60), outbox_state(app)
        delivered_after = time.monotonic() - started
    finally:
        second.kill()

    accepted = Counter(call.idempotency_key for call in onetablet.calls if call.status == 201)
    assert sorted(onetablet.orders) == sorted(ids)  # every order reached OneTablet...
    assert set(accepted.values()) == {1}  # ...once: no key was accepted twice
    with app.app_context():
        keys = set(db.session.execute(select(OutboxMessage.idempotency_key)).scalars())
        missing_ids = db.session.execute(
            select(func.count()).select_from(Order).where(Order.client_order_id.is_(None))).scalar()
    assert set(accepted) == keys and missing_ids == 0
    attempts_after = outbox_state(app)["attempts"]
    print(f"\nkill test: {ORDERS} queued and each tried in {queued_in:.1f}s; at SIGKILL {at_kill['attempts']} attempts made "
          f"(connection refused), {at_kill['leased']} leased by the dead process; after restart all "
          f"{ORDERS} sent in {delivered_after:.1f}s ({len(onetablet.calls)} calls received, "
          f"{attempts_after} attempts in all, 0 duplicates, 0 lost)")

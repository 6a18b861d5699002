"""The production command serves with gevent (gunicorn.conf.py) and its background services
still run inside it, as greenlets: the scheduler's overdue tick and the outbox worker. (SQLite
under many concurrent webhooks: tests/e2e/test_load_webhooks.py; the outbox's sends from
gunicorn processes: tests/e2e/test_outbox_processes.py.)"""
from __future__ import annotations

import pytest
import requests

from app.services import heartbeat
from bench import traffic
from tests.helpers import wait_for

pytestmark = pytest.mark.slow


def test_the_gunicorn_process_serves_with_gevent_and_ticks_the_scheduler_among_its_greenlets(app, passline_servers):
    server = passline_servers(PASSLINE_SCHEDULER="auto")
    worker = server.worker_pid()

    def ticked_by_the_worker():
        with app.app_context():
            status = heartbeat.overdue_status()
        return status.by is not None and status.by.endswith(f":{worker}")

    assert wait_for(ticked_by_the_worker, timeout=30), "no overdue tick from the gunicorn worker"
    with open(f"/proc/{worker}/status") as status:
        threads = int(next(line for line in status if line.startswith("Threads:")).split()[1])
    assert threads <= 4  # greenlets, not a thread per service (gevent's resolver may add one)
    order_ids = traffic.new_ids(3, "gevent")
    traffic.create_orders(server.url, order_ids)  # and it still answers while the tick runs
    assert requests.get(server.url + "/healthz", timeout=5).json()["status"] in ("ok", "degraded")

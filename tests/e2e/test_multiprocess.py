"""Two Passline processes (gunicorn, production settings) sharing PostgreSQL and Redis, as
behind a load balancer: what happens in one reaches the boards and readers of the other."""
from __future__ import annotations

import os
import re

import pytest

from app.services import accounts
from app.extensions import db
from bench import load, traffic
from bench.push import Board, login, wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get("REDIS_URL")),
                       reason="needs DATABASE_URL=postgresql://... and REDIS_URL (CI's second pass sets both)"),
]
PASSWORD = "multi-process-pw"


class Updates(Board):
    """A logged-in board that keeps every order update it receives."""

    def __init__(self, base_url, session):
        self.updates = []
        super().__init__(base_url, session)

    def _on_order(self, payload):
        self.updates.append(payload)
        super()._on_order(payload)

    def states(self, order_id):
        return [u["state"] for u in self.updates if u["id"] == order_id]


@pytest.fixture
def two_processes(app, passline_servers):
    with app.app_context():
        accounts.create_user("multi", role="dispatcher", password=PASSWORD)
        db.session.commit()
    return passline_servers(), passline_servers()


def test_a_webhook_to_one_process_reaches_a_board_connected_to_the_other(two_processes):
    a, b = two_processes
    board = Updates(b.url, login(b.url, "multi", PASSWORD))
    try:
        [order_id] = traffic.new_ids(1, "multi")
        traffic.create_orders(a.url, [order_id])  # through A's API
        assert wait_until(lambda: "submitted" in board.states(order_id), 10)

        result = load.run(a.url, [[traffic.confirm(order_id)]], 1)

        assert result.statuses == {200: 1}
        assert wait_until(lambda: "confirmed" in board.states(order_id), 10)
    finally:
        board.close()


def test_a_staff_cancel_in_one_process_is_seen_by_the_api_and_boards_of_the_other(two_processes):
    a, b = two_processes
    [order_id] = traffic.new_ids(1, "multi")
    traffic.create_orders(a.url, [order_id])
    board_a = Updates(a.url, login(a.url, "multi", PASSWORD))
    try:
        staff_b = login(b.url, "multi", PASSWORD)
        page = staff_b.get(f"{b.url}/orders/{order_id}", timeout=10).text
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)

        answer = staff_b.post(f"{b.url}/orders/{order_id}/cancel", allow_redirects=False, timeout=10,
                              data={"reason": "KITCHEN_BUSY", "details": "", "csrf_token": token})

        assert answer.status_code == 303, answer.text[:500]
        seen = staff_b.get(f"{a.url}/api/orders/{order_id}", timeout=10,
                           headers={"Authorization": f"Bearer {traffic.PLATFORM_KEY}"}).json()
        assert seen["state"] == "cancelled"
        assert seen["timeline"][-1]["actor"] == "staff:multi"
        assert wait_until(lambda: "cancelled" in board_a.states(order_id), 10)
    finally:
        board_a.close()

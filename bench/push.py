"""Live push: the time from a webhook's answer to its Socket.IO event at every one of 50
connected, logged-in boards (WebSocket; bench/sockets.py's asyncio clients, which note when
each card arrives), p50 and p99, against the webhook's own round trip in the same run."""
from __future__ import annotations

import re
import time

import requests
import socketio

from . import database, load, traffic
from .sockets import Boards
from .table import Row

USER, PASSWORD = "bench-push", "bench-push-password"


def login(base_url: str, username: str, password: str) -> requests.Session:
    """A staff session through the real login form (CSRF token included)."""
    session = requests.Session()
    page = session.get(base_url + "/login", timeout=10).text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    answer = session.post(base_url + "/login", data={"username": username, "password": password, "csrf_token": token},
                          allow_redirects=False, timeout=10)
    if answer.status_code != 303:
        raise RuntimeError(f"login failed: {answer.status_code}")
    return session


class Board:  # a python-socketio board, for tests that want the real client library
    """One connected board: when each order's update arrived."""

    def __init__(self, base_url: str, session: requests.Session):
        self.seen: dict[str, float] = {}
        self.client = socketio.Client(http_session=session, reconnection=False)
        self.client.on("order", self._on_order)
        self.client.on("orders", lambda payloads: [self._on_order(p) for p in payloads])
        # The same User-Agent as the login, as a browser sends: Flask-Login's "strong"
        # session protection drops a session whose agent changed.
        self.client.connect(base_url, headers={"User-Agent": session.headers["User-Agent"]},
                            transports=["websocket"], wait_timeout=10)

    def _on_order(self, payload):
        self.seen.setdefault(payload["id"], time.monotonic())

    def close(self):
        self.client.disconnect()


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.002)
    return False


def _arrivals(boards: Boards, order_id: str, timeout: float) -> list[float | None]:
    """When the order's card reached each board, once all have it or `timeout` ran out."""
    deadline = time.monotonic() + timeout
    while True:
        arrived = boards.arrivals(order_id)
        if None not in arrived or time.monotonic() > deadline:
            return arrived
        time.sleep(0.002)


def run(base_url: str, database_url: str, *, clients: int = 50, pushes: int = 100) -> list[Row]:
    """The boards are bench/sockets.py's (asyncio, in client processes that note when each
    card arrives), not python-socketio clients: fifty of those in this process kept it at
    a full core, and the figure was theirs, not the server's."""
    database.create_staff(database_url, USER, PASSWORD)
    session = login(base_url, USER, PASSWORD)
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.get_dict().items())
    boards = Boards(base_url, cookie, session.headers["User-Agent"], processes=2)
    try:
        if boards.open(clients) != clients:
            raise RuntimeError("not every board connected")
        ids = traffic.new_ids(pushes, "push")
        traffic.create_orders(base_url, ids)
        time.sleep(1.0)  # the creations' pushes land first
        boards.stamping()
        delays, answers, missing = [], [], 0
        sender = load._Connection(base_url, timeout=10)
        for order_id in ids:  # one webhook at a time, as a restaurant sends them
            began = time.monotonic()
            status, body = sender.send(traffic.confirm(order_id))
            answered = time.monotonic()
            if status != 200:
                raise RuntimeError(f"webhook answered {status}: {body[:200]!r}")
            answers.append(answered - began)
            arrived = _arrivals(boards, order_id, timeout=5)
            missing += None in arrived
            # (an update that raced ahead of the answer counts as 0)
            delays += [max(0.0, t - answered) for t in arrived if t is not None]
        sender.close()
    finally:
        boards.close()
    p50, p99 = load.percentile(delays, 50) * 1000, load.percentile(delays, 99) * 1000
    base50, base99 = load.percentile(answers, 50) * 1000, load.percentile(answers, 99) * 1000
    note = f"{missing} of {pushes} updates missed a board" if missing else ""
    label = f"push to {clients} boards, answer → event"
    return [Row(f"{label}: p50", p50, "ms", base50, "webhook round trip", "< 20 ms", p50 < 20 and not missing, note),
            Row(f"{label}: p99", p99, "ms", base99, "webhook round trip", "< 100 ms", p99 < 100 and not missing)]

"""Many open boards on one production process (gunicorn.conf.py, gevent): an open board
costs memory, not a thread, so 300 of them neither starve OneTablet's webhooks nor miss a
change (issue 18; `make bench` measures up to 2,000)."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.services import accounts
from bench import traffic
from bench.boards import offer
from bench.push import login
from bench.sockets import Boards
from tests.helpers import wait_for

pytestmark = pytest.mark.slow
PASSWORD = "many-boards-password"


def test_300_logged_in_boards_get_every_change_while_every_webhook_is_answered(app, passline_servers,
                                                                              fast_passwords):
    with app.app_context():
        accounts.create_user("wallboard", role="dispatcher", password=PASSWORD)
        db.session.commit()
    server = passline_servers()
    session = login(server.url, "wallboard", PASSWORD)  # one login, its cookie on every socket
    order_ids = traffic.new_ids(60, "wall")
    traffic.create_orders(server.url, order_ids)
    cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.get_dict().items())
    boards = Boards(server.url, cookie, session.headers["User-Agent"], processes=2)
    try:
        assert boards.open(300) == 300
        boards.reset(track=True)  # from here each board keeps every order's newest version

        answers = offer(server.url, [traffic.confirm(order_id) for order_id in order_ids], rate=20)

        assert [status for status, _ in answers] == [200] * len(order_ids)
        assert max(latency for _, latency in answers) < 10  # answered throughout, none held back
        confirmed = {order_id: 2 for order_id in order_ids}
        assert wait_for(lambda: boards.equal_to(confirmed) == 300, timeout=60), \
            f"{boards.equal_to(confirmed)} of 300 boards got every confirmation"
    finally:
        boards.close()

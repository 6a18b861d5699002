"""A crowd of boards reloading at once (a reconnect after a deploy) waits its turn without
holding the database: the few pooled connections stay free for webhooks and for the
render whose turn it is (app/infra/crowd.py, app/board/reloads.py)."""
import threading

import pytest

from app.board import queries, reloads
from app.extensions import db
from app.infra import crowd, live


@pytest.fixture
def app_config():
    # A pool as small as the crowd is large: a waiter holding a connection would starve the rest.
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2, "max_overflow": 0, "pool_timeout": 5,
                                         "pool_pre_ping": True}}


@pytest.fixture
def waiting(monkeypatch):
    """One entry per request that waits for a render another leads."""
    waits = []

    class Flight(reloads._Flight):
        def __init__(self):
            super().__init__()
            wait = self.done.wait
            self.done.wait = lambda timeout=None: waits.append(1) or wait(timeout)

    monkeypatch.setattr(reloads, "_Flight", Flight)
    return waits


def _until(condition):
    for _ in range(1000):
        if condition():
            return True
        threading.Event().wait(0.01)
    return False


def test_boards_waiting_for_their_turn_hold_no_connection_and_share_one_render(app, staff, submitted, monkeypatch,
                                                                               waiting):
    staff.login()
    assert live.drain(app)  # the order's push and the strips it touched are out: no other reader
    cookie = staff.client.get_cookie("session")
    gate = threading.BoundedSemaphore(1)
    monkeypatch.setattr(crowd, "gate", gate)
    monkeypatch.setitem(app.extensions, reloads.EXTENSION, reloads.SharedRenders(gate))  # the renders' turn too
    renders = []
    board = queries.board
    monkeypatch.setattr(queries, "board", lambda *a, **k: renders.append(1) or board(*a, **k))

    answers = []

    def reload_board():
        client = app.test_client()
        client.set_cookie(cookie.key, cookie.value)
        answer = client.get("/", headers={"HX-Request": "true"})
        answers.append((answer.status_code, answer.get_data(as_text=True)))

    gate.acquire()  # the crowd's turn has not come: a render of another crowd runs
    threads = [threading.Thread(target=reload_board, daemon=True) for _ in range(6)]
    for thread in threads:
        thread.start()
    assert _until(lambda: len(waiting) == 5)  # one leads the render and waits for the gate, five wait for it
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
    assert staff.get(f"/orders/{submitted}", htmx=True).status_code == 200  # a request that is not crowd work
    gate.release()
    for thread in threads:
        thread.join(20)
    assert [status for status, _ in answers] == [200] * 6
    assert len({body for _, body in answers}) == 1 and submitted in answers[0][1]
    assert renders == [1]  # six boards, one render


@pytest.mark.parametrize("boards, setting, expected_ms", [
    (10, 60, 60_000),  # a small floor: the setting
    (2000, 60, 400_000),  # 2,000 boards: at most 5 catch-up renders a second
    (2000, 0, 0),  # switched off stays off
])
def test_a_crowded_process_stretches_the_boards_catch_up(app, staff, monkeypatch, boards, setting, expected_ms):
    from app.board import sockets

    app.config["BOARD_CATCH_UP_SECONDS"] = setting
    monkeypatch.setattr(sockets, "count", lambda app: boards)
    staff.login()
    page = staff.get("/", htmx=True).get_data(as_text=True)
    assert f'data-catch-up-ms="{expected_ms}"' in page


@pytest.mark.parametrize("path", ["/board/attention", "/board/couriers"])
def test_the_strip_and_courier_list_fetched_after_a_reload_also_wait_their_turn_and_share(
        app, staff, submitted, monkeypatch, waiting, path):
    """After a reconnect each board fetches them too: a thousand fetches, one render."""
    from app.board import strips

    staff.login()
    assert live.drain(app)
    cookie = staff.client.get_cookie("session")
    gate = threading.BoundedSemaphore(1)
    monkeypatch.setattr(crowd, "gate", gate)
    monkeypatch.setitem(app.extensions, reloads.EXTENSION, reloads.SharedRenders(gate))  # the renders' turn too
    renders = []
    for name in ("attention_html", "couriers_html"):
        real = getattr(strips, name)
        monkeypatch.setattr(strips, name, lambda real=real: renders.append(1) or real())
    answers = []

    def fetch():
        client = app.test_client()
        client.set_cookie(cookie.key, cookie.value)
        answer = client.get(path, headers={"HX-Request": "true"})
        answers.append((answer.status_code, answer.get_data(as_text=True)))

    gate.acquire()  # another crowd's turn
    threads = [threading.Thread(target=fetch, daemon=True) for _ in range(5)]
    for thread in threads:
        thread.start()
    assert _until(lambda: len(waiting) == 4)  # one leads (waiting for the gate), four wait for it
    gate.release()
    for thread in threads:
        thread.join(20)
    assert [status for status, _ in answers] == [200] * 5
    assert len({body for _, body in answers}) == 1
    assert renders == [1]

"""/socket.io faces the internet (contract §3.6): a handshake without a signed-in session is
refused before Engine.IO opens anything, and a client cannot fake its own disconnect to
keep a board that its account's disable should close. Real HTTP against a live server,
so these run with the Redis message queue too (Flask-SocketIO's test client refuses one)."""
from __future__ import annotations

import base64
import os
import queue
import re
import threading

import pytest
import requests
import socketio as socketio_client
import websocket

from app.infra import live
from app.services import accounts
from app.extensions import db
from tests.helpers import order_body

pytestmark = pytest.mark.usefixtures("fast_passwords")

POLLING = "/socket.io/?EIO=4&transport=polling"
WEBSOCKET = "/socket.io/?EIO=4&transport=websocket"


def signed_in(live_server, auth, username="nia", role="dispatcher") -> requests.Session:
    """A browser-like HTTP session of `username`, logged in through the real form."""
    auth.create(username, role=role)
    http = requests.Session()
    page = http.get(live_server.url + "/login", timeout=10).text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    login = http.post(live_server.url + "/login", allow_redirects=False, timeout=10,
                      data={"username": username, "password": "correct horse", "csrf_token": token})
    assert login.status_code == 303
    return http


def cookie_of(http: requests.Session) -> str:
    return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def polling_handshake(live_server, cookie: str | None = None) -> requests.Response:
    return requests.get(live_server.url + POLLING, headers={"Cookie": cookie} if cookie else {}, timeout=10)


def websocket_handshake(live_server, cookie: str | None = None):
    """A WebSocket opened straight away (no polling first), as a script would: the open
    connection, or the refusal's status. It says it is the same browser as the requests
    session (Flask-Login's "strong" session protection ties a session to its user agent)."""
    url = live_server.url.replace("http://", "ws://") + WEBSOCKET
    browser = requests.utils.default_user_agent()
    try:
        return websocket.create_connection(url, timeout=10, cookie=cookie, header=[f"User-Agent: {browser}"])
    except websocket.WebSocketBadStatusException as refused:
        return refused.status_code


def refused(response: requests.Response) -> bool:
    return response.status_code in (401, 403) and "sid" not in response.text


def board_socket(live_server, http: requests.Session):
    """A connected Socket.IO client with the session's cookie; (client, orders, closed)."""
    orders, closed = queue.Queue(), threading.Event()
    client = socketio_client.Client(reconnection=False)
    client.on("order", orders.put)
    client.on("disconnect", lambda *reason: closed.set())
    client.connect(live_server.url, headers={"Cookie": cookie_of(http)}, wait_timeout=10)
    return client, orders, closed


# --- the handshake --------------------------------------------------------------------

def test_an_anonymous_polling_handshake_is_refused_without_a_session_id(live_server):
    assert refused(polling_handshake(live_server))


def test_an_anonymous_websocket_handshake_is_refused_before_the_upgrade(live_server):
    assert websocket_handshake(live_server) in (401, 403)


def test_a_forged_session_cookie_is_refused(live_server):
    assert refused(polling_handshake(live_server, cookie="session=" + base64.b64encode(os.urandom(24)).decode()))


def test_a_signed_in_handshake_gets_a_session_id_by_polling_and_by_websocket(live_server, auth):
    http = signed_in(live_server, auth)
    opened = polling_handshake(live_server, cookie_of(http))
    assert opened.status_code == 200 and '"sid"' in opened.text
    socket = websocket_handshake(live_server, cookie_of(http))
    assert not isinstance(socket, int), f"refused with {socket}"
    try:
        assert '"sid"' in socket.recv()  # Engine.IO's OPEN packet
    finally:
        socket.close()


def test_the_cookie_of_a_session_ended_by_a_new_password_is_refused(app, live_server, auth):
    http = signed_in(live_server, auth)
    cookie = cookie_of(http)
    assert polling_handshake(live_server, cookie).status_code == 200
    with app.app_context():
        accounts.set_password(accounts.find("nia"), "another long one")
        db.session.commit()
    assert refused(polling_handshake(live_server, cookie))
    assert websocket_handshake(live_server, cookie) in (401, 403)


def test_the_cookie_of_a_disabled_account_is_refused(app, live_server, auth):
    cookie = cookie_of(signed_in(live_server, auth))
    with app.app_context():
        accounts.set_enabled(accounts.find("nia"), False)
        db.session.commit()
    assert refused(polling_handshake(live_server, cookie))


def test_the_cookie_a_logout_leaves_in_the_browser_is_refused(live_server, auth):
    http = signed_in(live_server, auth)
    page = http.get(live_server.url + "/couriers", timeout=10).text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    assert http.post(live_server.url + "/logout", data={"csrf_token": token}, allow_redirects=False,
                     timeout=10).status_code == 303
    assert refused(polling_handshake(live_server, cookie_of(http)))


def test_a_session_cookie_copied_before_logout_is_refused_after_it(live_server, auth):
    http = signed_in(live_server, auth)
    copied = cookie_of(http)
    page = http.get(live_server.url + "/couriers", timeout=10).text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    http.post(live_server.url + "/logout", data={"csrf_token": token}, allow_redirects=False, timeout=10)
    assert refused(polling_handshake(live_server, copied))


def test_a_board_socket_reads_its_account_once_at_the_handshake(app, live_server, auth):
    """The connect handler takes who the handshake found (same environ, a moment later):
    after a deploy a thousand boards reconnect at once, and each account read counts."""
    from sqlalchemy import event

    http = signed_in(live_server, auth)
    reads = []

    def count(conn, cursor, statement, *args):
        if "FROM users" in statement:
            reads.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        socket = websocket_handshake(live_server, cookie_of(http))
        assert not isinstance(socket, int), f"refused with {socket}"
        try:
            assert '"sid"' in socket.recv()  # Engine.IO's OPEN packet
            socket.send("40")  # Socket.IO CONNECT: the board's connect handler runs
            assert socket.recv().startswith("40{")  # accepted
        finally:
            socket.close()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(reads) == 1, reads


def test_a_signed_in_board_connects_and_receives_orders(app, live_server, auth, api, menu):
    board, orders, _ = board_socket(live_server, signed_in(live_server, auth))
    try:
        body = order_body()
        assert api.create(body).status_code == 201
        live.drain(app)
        assert orders.get(timeout=10)["id"] == body["id"]
    finally:
        board.disconnect()


# --- a faked disconnect ---------------------------------------------------------------

def test_a_board_that_emits_a_fake_disconnect_is_still_closed_when_its_account_is_disabled(
        app, live_server, auth, api, menu, monkeypatch):
    """The client names an event "disconnect": before, the server ran its disconnect
    handler, forgot the socket, and no sweep ever closed it."""
    from app.board import sockets

    monkeypatch.setattr(sockets, "SWEEP_SECONDS", 0.1)
    board, orders, closed = board_socket(live_server, signed_in(live_server, auth))
    watching, watched, _ = board_socket(live_server, signed_in(live_server, auth, "root", role="admin"))
    try:
        assert board.call("disconnect", "client namespace disconnect", timeout=10) is None  # the handler ran
        assert board.connected
        with app.app_context():  # as another process would: only the sweep can notice
            accounts.set_enabled(accounts.find("nia"), False)
            db.session.commit()
        assert closed.wait(timeout=5), "the disabled account's board is still open"

        body = order_body()
        assert api.create(body).status_code == 201
        live.drain(app)
        assert watched.get(timeout=10)["id"] == body["id"]  # boards got it by now
        assert orders.empty()
    finally:
        board.disconnect()
        watching.disconnect()


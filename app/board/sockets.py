"""The board's Socket.IO side: only logged-in, enabled staff connect, and they join the
room that app/infra/live.py pushes every committed change to.

A socket is authenticated once, when it connects; an account disabled afterwards must
not keep receiving orders on a board left open. Each process knows its own sockets and
their users, and closes those whose account is no longer enabled: at once in the
process that disables it, and within SWEEP_SECONDS in every other process.
"""
from __future__ import annotations

import threading
import time
import weakref
from datetime import timedelta

from flask import Flask, current_app, request
from flask_login import current_user
from flask_socketio import join_room
from sqlalchemy import select

from ..infra import crowd
from ..infra.db import reading_only
from ..extensions import db, socketio
from ..infra.live import BOARD_ROOM
from ..models import OrderEvent, User

SWEEP_SECONDS = 10.0
# A change is audited a moment before its commit: one audited just before a board's render
# began may still have been committed (and pushed) after the render read the columns.
RENDER_MARGIN = timedelta(seconds=2)


def connect(auth=None):
    """Refuse anonymous sockets (the session cookie of the page decides; app/board/handshake.py
    already refused the Engine.IO handshake of one without a signed-in session)."""
    if _sent_by_the_client():
        return None  # an event the client named "connect": it is connected already
    with crowd.gate:  # a thousand boards reconnect at once: in turn (app/infra/crowd.py)
        if not current_user.is_authenticated:
            return False
        join_room(BOARD_ROOM)
        _sockets(current_app._get_current_object()).add(request.sid, (int(current_user.id), current_user.session_version))
        return True


def changed_since(rendered_ms=None) -> bool:
    """Whether an order may have changed since a board was rendered (its data-now, epoch
    ms): asked on its first connect, so a fresh page is not loaded twice. Every change
    writes an audit row, so the newest one (by primary key: no scan) tells."""
    if not isinstance(rendered_ms, (int, float)) or isinstance(rendered_ms, bool):
        return True  # cannot tell: reload
    with reading_only():
        newest = db.session.execute(select(OrderEvent.at).order_by(OrderEvent.id.desc()).limit(1)).scalar()
    if newest is None:
        return False
    return newest.timestamp() * 1000 >= rendered_ms - RENDER_MARGIN.total_seconds() * 1000


def disconnect(reason=None):
    if _sent_by_the_client():
        return  # an event the client named "disconnect": it would drop the socket from the sweep
    _sockets(current_app._get_current_object()).discard(request.sid)


def _sent_by_the_client() -> bool:
    """Whether this (dis)connect handler runs for an event the client emitted under that
    name. python-socketio dispatches a client's event named "connect" or "disconnect" to
    the same handler as the real (dis)connection; the real one runs while the manager
    counts the socket as connecting or disconnecting, so not as connected."""
    return socketio.server.manager.is_connected(request.sid, request.namespace)


def sweep(app: Flask | None = None) -> int:
    """Close this process's sockets of accounts that are no longer enabled, or whose
    sessions were ended (a new password or role: app/services/accounts.py); how many."""
    return _sockets(app or current_app._get_current_object()).sweep()


def count(app: Flask) -> int:
    """How many board sockets this process holds."""
    return len(_sockets(app))


def _sockets(app: Flask) -> _Sockets:
    found = app.extensions.get("passline_sockets")
    if found is None:
        found = app.extensions["passline_sockets"] = _Sockets(app)
    return found


class _Sockets:
    """This process's board sockets (sid -> user id), and the thread that sweeps them
    while there are any."""

    def __init__(self, app: Flask):
        self._app = weakref.ref(app)  # tests build many apps: do not keep them alive
        self._lock = threading.Lock()
        self._users: dict[str, tuple[int, int]] = {}  # sid -> (user id, session version)
        self._sweeper: threading.Thread | None = None

    def add(self, sid: str, user_id: tuple[int, int]) -> None:
        with self._lock:
            self._users[sid] = user_id
            if self._sweeper is None or not self._sweeper.is_alive():
                self._sweeper = threading.Thread(target=self._run, name="passline-socket-sweep", daemon=True)
                self._sweeper.start()

    def __len__(self) -> int:
        return len(self._users)

    def discard(self, sid: str) -> None:
        with self._lock:
            self._users.pop(sid, None)

    def _run(self) -> None:
        while True:
            time.sleep(SWEEP_SECONDS)
            app = self._app()
            with self._lock:
                if not self._users or app is None:
                    self._sweeper = None
                    return
            try:
                self.sweep()
            except Exception:  # the next sweep tries again
                app.logger.exception("socket sweep failed")

    def sweep(self) -> int:
        with self._lock:
            users = dict(self._users)
        app = self._app()
        if not users or app is None:
            return 0
        with app.app_context(), reading_only():
            enabled = set(db.session.execute(
                select(User.id, User.session_version).where(
                    User.id.in_({user_id for user_id, _ in users.values()}), User.is_enabled.is_(True))).all())
            db.session.remove()
        enabled = {tuple(row) for row in enabled}
        closed = [sid for sid, signed_in in users.items() if signed_in not in enabled]
        for sid in closed:
            self.discard(sid)
            socketio.server.disconnect(sid, namespace="/")
        return len(closed)

"""Boards that reload at once share one render.

Every open board reloads its columns after a reconnect (a deploy or a network blip drops
them all at once: a thousand reloads within a second), after a courier changes, and every
BOARD_CATCH_UP_SECONDS. The columns depend on the filters alone (app/board/_card.html keeps
no per-viewer state), so a thousand renders of the same board would be a thousand copies
of one page, each ~20 ms of the one CPU core that also answers OneTablet's webhooks.

A request that asks for a board while the same board (same filters) is being rendered
waits for the *next* render, the one that begins after it arrived, and takes its result:
every change committed before it asked is in it, and every change after that reaches the
board as a push (its socket was connected before it asked; board.js keeps the newer
version of a card). Renders of one board run one at a time, so a crowd costs a render or
two, not one each.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Callable, ContextManager, Hashable

EXTENSION = "passline_board_renders"  # app.extensions key: this app's SharedRenders (board init_app)

# A follower whose render has not come within this long renders its own (a leader stuck on
# the database must not hold a crowd; the request would time out anyway).
WAIT_SECONDS = 30.0


class _Flight:
    def __init__(self):
        self.done = threading.Event()
        self.result: str | None = None


class SharedRenders:
    """`shared.render(key, build)`: build() once for everyone who asked for `key` before
    that build began; threads or greenlets alike (the serving process patches threading).
    A render waits for `gate` (app/infra/crowd.py) before it begins; askers meanwhile join it."""

    def __init__(self, gate: ContextManager | None = None):
        self._gate = gate if gate is not None else contextlib.nullcontext()
        self._lock = threading.Lock()
        self._boarding: dict[Hashable, _Flight] = {}  # key -> the render the next askers join
        self._running: dict[Hashable, threading.Lock] = {}  # key -> held while one renders

    def render(self, key: Hashable, build: Callable[[], str]) -> str:
        with self._lock:
            flight = self._boarding.get(key)
            leads = flight is None
            if leads:
                flight = self._boarding[key] = _Flight()
            running = self._running.setdefault(key, threading.Lock())
        if not leads:
            if flight.done.wait(WAIT_SECONDS) and flight.result is not None:
                return flight.result
            return build()  # the leader failed or is stuck: render alone
        with running, self._gate:  # the previous render of this board ends, and our turn comes; askers meanwhile join us
            with self._lock:
                del self._boarding[key]  # who asks from now on waits for the next render
            try:
                flight.result = build()
            finally:
                flight.done.set()
                with self._lock:
                    if key not in self._boarding:
                        self._running.pop(key, None)
        return flight.result

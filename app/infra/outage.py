"""Log a run of repeated failures once, not once per try.

A loop that retries every few seconds (an outbox sender, a scheduled job) would log a full
traceback each time while PostgreSQL is down: thousands of lines a minute. A Failures
logs the first failure with its traceback, a new kind of failure with its own, otherwise a
one-line reminder at growing spacing (every minute for the first ten, then every ten
minutes), and one line when the loop works again, saying for how long it did not.

A loop with several threads (the outbox senders) names each thread as the `source` of its
failures: the outage is over once every thread that failed has worked again, so a thread
whose try began before the recovery and fails after it does not log a new outage."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Hashable, Optional

from sqlalchemy.exc import DBAPIError

# (outage shorter than, reminder every) in seconds; past the last, the last spacing.
SPACING = ((600, 60), (float("inf"), 600))


class Failures:
    """One per retrying loop, shared by its threads (one outage is logged once); each
    thread passes its own `source`."""

    def __init__(self, log: logging.Logger, what: str, *, monotonic: Callable[[], float] = time.monotonic):
        self.log, self.what, self.monotonic = log, what, monotonic
        self._lock = threading.Lock()
        self._since: Optional[float] = None  # when the run of failures began
        self._failing: set[Hashable] = set()  # the sources whose last try failed
        self._count = 0
        self._next_reminder = 0.0
        self._kinds: set[str] = set()
        self._database = False

    @property
    def failing(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException, then: str = "", source: Hashable = None) -> None:
        """Call from an except block: logs `what failed[; then]` as this run allows."""
        kind = _kind(error)
        now = self.monotonic()
        with self._lock:
            first = self._since is None
            if first:
                self._since, self._count, self._kinds, self._database = now, 0, set(), False
            self._failing.add(source)
            self._count += 1
            self._database = self._database or isinstance(error, DBAPIError)
            new_kind = kind not in self._kinds
            self._kinds.add(kind)
            if new_kind:
                self._next_reminder = now + _spacing(now - self._since)
                full = True
            elif now >= self._next_reminder:
                self._next_reminder = now + _spacing(now - self._since)
                full = False
            else:
                return
            count, down = self._count, now - self._since
        suffix = f"; {then}" if then else ""
        if full:
            self.log.error("%s failed%s%s", self.what, suffix,
                           "" if first else f" (failing for {down:.0f} s)", exc_info=error)
        else:
            self.log.error("%s still failing after %.0f s (%d failures): %s%s", self.what, down, count, kind,
                           "; repeats are not logged in full")

    def succeeded(self, source: Hashable = None) -> None:
        """Call after a pass that worked: logs the recovery once, if there was an outage
        and no other source is still failing."""
        if self._since is None:  # the usual case: no lock taken
            return
        with self._lock:
            self._failing.discard(source)
            if self._since is None or self._failing:
                return
            down, count, database = self.monotonic() - self._since, self._count, self._database
            self._since = None
        if database:
            self.log.warning("%s: database reachable again after %.0f s (%d failures)", self.what, down, count)
        else:
            self.log.warning("%s: working again after %.0f s (%d failures)", self.what, down, count)


def _kind(error: BaseException) -> str:
    """What makes two failures "the same": the exception's type and first line."""
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{error.__class__.__name__}: {text[0][:200] if text else ''}"


def _spacing(down: float) -> float:
    return next(every for below, every in SPACING if down < below)

"""What a request that fails authentication may leave behind (contract §3.6): anyone on the
internet can send them, as fast as they like, so whatever they cost us must be bounded.

- A log line, and (for webhooks) a small receipt without the body, at most once a second
  per process and door; the requests passed over in between are only counted, and the
  next line or receipt says how many.
- Refused webhook receipts live in a ring of SLOTS rows, one per second of the hour
  (`WebhookReceipt.refused_slot`, unique): a new one replaces the one an hour older in its
  slot. However long a flood lasts, the log holds at most SLOTS of them (each a few KB:
  truncated path, ids and headers), and the space is bounded at every insert, not only
  when the hourly retention job runs. A sparse refusal (a secret rotated on one side)
  survives until a later one lands in the same second of the hour.
"""
from __future__ import annotations

import threading
import time

from flask import current_app

SLOTS = 3600
# Header values kept on a receipt, and a path in a log line, are cut to this many characters.
TEXT_LIMIT = 200


class Throttle:
    """One turn a second in this process; counts the requests that found it taken."""

    def __init__(self):
        self._lock = threading.Lock()
        self._second = None
        self._passed_over = 0

    def take(self, now: float | None = None) -> int | None:
        """None when this second's turn is taken; else how many were passed over since the
        last turn (the caller says so in what it keeps)."""
        second = int(time.time() if now is None else now)
        with self._lock:
            if second == self._second:
                self._passed_over += 1
                return None
            passed_over, self._second, self._passed_over = self._passed_over, second, 0
            return passed_over


def throttle(door: str) -> Throttle:
    """The app's throttle for one door ("webhooks", "api"): per app, so a test's fresh app
    starts with its turn free."""
    throttles = current_app.extensions.setdefault("passline_refusals", {})
    return throttles.setdefault(door, Throttle())


def passed_over_note(count: int) -> str:
    return f" ({count} more refused since the last one kept; not kept)" if count else ""


def short(text: str | None) -> str:
    return (text or "")[:TEXT_LIMIT]

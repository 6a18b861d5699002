"""When to try a call again: the verdict on one attempt, exponential backoff with full
jitter, and `Retry-After`. Plain functions, so the schedule is tested without a server."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Optional

import requests

SENT, RETRY, FINAL = "sent", "retry", "final"
_DELAY_SECONDS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes "²", which float() refuses


@dataclass(frozen=True)
class Verdict:
    outcome: str  # sent | retry | final
    status_code: Optional[int] = None
    error: Optional[str] = None
    retry_after: Optional[float] = None  # seconds the other side asked us to wait


def backoff_cap(attempt: int, *, base: float, cap: float) -> float:
    """The longest wait after the `attempt`-th failure (1-based): base·2^(attempt-1), capped."""
    return min(cap, base * 2 ** min(attempt - 1, 62))


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random = random) -> float:
    """Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): a uniform draw
    below the cap, so senders that failed together do not retry together."""
    return rng.uniform(0, backoff_cap(attempt, base=base, cap=cap))


def parse_retry_after(value: Optional[str], now: datetime) -> Optional[float]:
    """Seconds to wait from a `Retry-After` header: delay-seconds (ASCII digits) or an HTTP
    date (RFC 9110 §10.2.3). None when absent or anything else: the usual backoff applies.
    A date in the past means 0. The number may be huge (even infinite): `next_attempt`
    compares it with the time left before it makes a date of it."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if _DELAY_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def judge(response: Optional[requests.Response], error: Optional[Exception], now: datetime) -> Verdict:
    """Timeouts, connection errors, 429 and 5xx are worth another try; any other
    non-2xx answer is OneTablet's final word."""
    if error is not None:
        if isinstance(error, requests.Timeout):
            return Verdict(RETRY, error=f"timeout: {error}")
        if isinstance(error, requests.ConnectionError):
            return Verdict(RETRY, error=f"connection error: {error}")
        return Verdict(RETRY, error=f"{error.__class__.__name__}: {error}")
    code = response.status_code
    if 200 <= code < 300:
        return Verdict(SENT, status_code=code)
    error_text = f"HTTP {code}: {response.text[:500]}"
    if code == 429 or code >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        return Verdict(RETRY, status_code=code, error=error_text, retry_after=retry_after)
    return Verdict(FINAL, status_code=code, error=error_text)


def refused(status_code: Optional[int]) -> bool:
    """A 4xx other than 429: the other side's final no, so it did nothing with the call."""
    return status_code is not None and 400 <= status_code < 500 and status_code != 429


def give_up_at(started: datetime, max_hours: float) -> datetime:
    return started + timedelta(hours=max_hours)


def waits_past_give_up(verdict: Verdict, now: datetime, deadline: datetime) -> bool:
    """The other side asks us to come back only after we would have given up."""
    return verdict.retry_after is not None and verdict.retry_after > (deadline - now).total_seconds()


def next_attempt(*, attempts: int, now: datetime, started: datetime, verdict: Verdict, max_attempts: int,
                 max_hours: float, base: float, cap: float, rng: random.Random = random) -> Optional[datetime]:
    """When to try again after a retryable failure, or None to give up. `Retry-After`
    replaces the jittered delay (never earlier than asked); no try is planned past the
    give-up time, but a backoff may land on it for a last one."""
    deadline = give_up_at(started, max_hours)
    if attempts >= max_attempts or now >= deadline:
        return None
    if waits_past_give_up(verdict, now, deadline):
        # Give up now rather than try once at the deadline: that try would come earlier
        # than OneTablet asked, and meanwhile the order would sit "submitted" for hours
        # while the customer waits. A dispatcher wants the failed call on the card at
        # once (the order rejected, the customer told), to call the restaurant or retry
        # by hand when OneTablet is back.
        return None
    if verdict.retry_after is not None:
        delay = verdict.retry_after
    else:
        delay = min(backoff_delay(attempts, base=base, cap=cap, rng=rng), (deadline - now).total_seconds())
    return now + timedelta(seconds=delay)

"""The outbox's retry schedule: exponential backoff with full jitter, Retry-After, and
which answers are worth another try (app/outbox/retry_policy.py)."""
import random
from datetime import datetime, timedelta, timezone

import pytest
import requests

from app.outbox import retry_policy

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def answer(status, headers=None, body="{}"):
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response._content = body.encode()
    return response


def test_backoff_cap_doubles_from_the_base_until_the_maximum():
    caps = [retry_policy.backoff_cap(n, base=2, cap=600) for n in range(1, 13)]
    assert caps == [2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600, 600]


def test_full_jitter_draws_anywhere_below_the_cap():
    rng = random.Random(3)
    draws = [retry_policy.backoff_delay(5, base=2, cap=600, rng=rng) for _ in range(2000)]
    assert all(0 <= d <= 32 for d in draws)
    assert min(draws) < 2 and max(draws) > 30  # spread over the whole range, not bunched
    assert 14 < sum(draws) / len(draws) < 18  # uniform: mean half the cap


def test_huge_attempt_numbers_do_not_overflow():
    assert retry_policy.backoff_cap(10_000, base=2, cap=600) == 600


@pytest.mark.parametrize("header, seconds", [
    ("120", 120.0),
    ("0", 0.0),
    (" 7 ", 7.0),
    ("Sat, 28 Nov 2026 12:01:30 GMT", 90.0),
    ("Sat, 28 Nov 2026 11:00:00 GMT", 0.0),  # already past: go now
    (None, None),
    ("", None),
    ("soon", None),
    ("-5", None),
    ("²", None),  # str.isdigit() says yes, float() says no
    ("1²", None),
    ("٣", None),  # an Arabic-Indic three: a digit, not an ASCII one
    ("1.5", None),
    ("+5", None),
    ("99999999999999", 99999999999999.0),  # huge is read; next_attempt decides what it means
    ("9" * 400, float("inf")),
    ("Sat, 01 Jan 10000 00:00:00 GMT", None),  # past what a datetime holds
])
def test_retry_after_reads_seconds_or_an_http_date(header, seconds):
    assert retry_policy.parse_retry_after(header, NOW) == seconds


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_throttling_and_server_errors_are_retried(status):
    verdict = retry_policy.judge(answer(status, {"Retry-After": "3"}), None, NOW)
    assert (verdict.outcome, verdict.status_code, verdict.retry_after) == (retry_policy.RETRY, status, 3.0)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 422, 301])
def test_other_non_success_answers_are_final(status):
    assert retry_policy.judge(answer(status), None, NOW).outcome == retry_policy.FINAL


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_2xx_is_sent(status):
    assert retry_policy.judge(answer(status), None, NOW).outcome == retry_policy.SENT


@pytest.mark.parametrize("error", [requests.ConnectTimeout("slow"), requests.ReadTimeout("slow"),
                                   requests.ConnectionError("refused")])
def test_timeouts_and_connection_errors_are_retried(error):
    verdict = retry_policy.judge(None, error, NOW)
    assert verdict.outcome == retry_policy.RETRY and verdict.status_code is None


def plan(attempts, *, retry_after=None, now=NOW, started=NOW, max_attempts=12, max_hours=24.0):
    return retry_policy.next_attempt(attempts=attempts, now=now, started=started,
                               verdict=retry_policy.Verdict(retry_policy.RETRY, 503, "HTTP 503", retry_after),
                               max_attempts=max_attempts, max_hours=max_hours, base=2, cap=600,
                               rng=random.Random(1))


def test_next_attempt_is_within_the_jittered_window():
    for attempts in range(1, 12):
        when = plan(attempts)
        assert NOW <= when <= NOW + timedelta(seconds=retry_policy.backoff_cap(attempts, base=2, cap=600))


def test_retry_after_replaces_the_jitter_and_is_never_shortened():
    assert plan(1, retry_after=45.0) == NOW + timedelta(seconds=45)


def test_gives_up_after_the_maximum_number_of_attempts():
    assert plan(11) is not None
    assert plan(12) is None


def test_gives_up_once_the_hours_are_spent_and_never_plans_past_them():
    started = NOW - timedelta(hours=1)
    assert plan(2, started=started, max_hours=1.0) is None
    nearly = NOW - timedelta(minutes=59, seconds=50)
    for attempts in range(1, 12):
        assert plan(attempts, started=nearly, max_hours=1.0) <= nearly + timedelta(hours=1)


@pytest.mark.parametrize("retry_after", [11.0, 3600.0, 1e14, 1e300, float("inf")])
def test_a_retry_after_past_the_give_up_time_gives_up_now_whatever_its_size(retry_after):
    nearly = NOW - timedelta(minutes=59, seconds=50)  # 10 s left
    assert plan(2, started=nearly, max_hours=1.0, retry_after=retry_after) is None
    assert plan(2, started=nearly, max_hours=1.0, retry_after=10.0) == NOW + timedelta(seconds=10)

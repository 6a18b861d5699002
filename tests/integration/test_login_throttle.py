"""Password guessing is throttled (contract §3.6), with the real limits (app/infra/config.py): 10
wrong passwords per username and 30 per client address within 5 minutes; the next guess
is a 429 with Retry-After that costs no password hash. Only failures count."""
import logging
import os
import re

import pytest
import requests

from tests.helpers import Auth, make_app

PER_USERNAME, PER_ADDRESS, WINDOW = 10, 30, 300
WRONG = "wrong guess"


def test_the_defaults_are_the_limits_these_tests_use(app):
    assert (app.config["LOGIN_FAILURES_PER_USERNAME"], app.config["LOGIN_FAILURES_PER_ADDRESS"],
            app.config["LOGIN_FAILURE_WINDOW_SECONDS"]) == (PER_USERNAME, PER_ADDRESS, WINDOW)


def test_guessing_one_accounts_password_over_real_http_is_refused_with_429_and_retry_after(
        app, auth, live_server, password_checks):
    auth.create()
    browser = requests.Session()
    token = lambda: re.search(r'name="csrf-token" content="([^"]+)"',  # noqa: E731
                              browser.get(live_server.url + "/login").text).group(1)
    for _ in range(PER_USERNAME):
        answer = browser.post(live_server.url + "/login", allow_redirects=False,
                              data={"username": "dana", "password": "wrong guess", "csrf_token": token()})
        assert answer.status_code == 401
    assert len(password_checks) == PER_USERNAME
    refused = browser.post(live_server.url + "/login", allow_redirects=False,
                           data={"username": "dana", "password": "correct horse", "csrf_token": token()})
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= WINDOW
    assert 'name="password"' in refused.text  # the form, and in words how long to wait
    assert re.search(r"Too many attempts.*Try again in \d+ s", refused.text)
    assert len(password_checks) == PER_USERNAME  # the refused guess was never hashed...
    session = browser.get(live_server.url + "/session", headers={"HX-Request": "true"})
    assert session.status_code == 401  # ...nor signed in


def test_a_dispatcher_who_mistypes_three_times_still_logs_in(auth, client):
    auth.create()
    for _ in range(3):
        assert auth.attempt(password=WRONG).status_code == 401
    auth.login(create=False)


def test_successful_logins_are_not_counted(app, auth, fast_passwords):
    """A shift change: the whole control room logs in from one address, many times."""
    auth.create()
    for _ in range(PER_ADDRESS + 1):
        Auth(app, app.test_client()).login(create=False)


def test_the_limit_is_per_username_whatever_its_case(auth, client, password_checks):
    auth.create()
    for i in range(PER_USERNAME):
        assert auth.attempt("dana" if i % 2 else " DANA", WRONG).status_code == 401
    assert auth.attempt("Dana", WRONG).status_code == 429
    assert auth.attempt("nia", WRONG).status_code == 401  # another account is not locked by dana's guesser
    assert len(password_checks) == PER_USERNAME + 1


def test_a_guessed_account_is_named_in_the_log_once_per_window_without_the_password(auth, client, caplog):
    auth.create()
    for _ in range(PER_USERNAME):
        auth.attempt(password="hunter2-secret")
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert auth.attempt(password="hunter2-secret").status_code == 429
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "'dana'" in warnings[0] and "127.0.0.1" in warnings[0]
    assert "hunter2" not in caplog.text


def test_many_usernames_from_one_address_are_refused_and_its_own_x_forwarded_for_changes_nothing(
        auth, client, password_checks, fast_passwords):
    """Without PROXY_FIX_X_FOR a client's X-Forwarded-For is just a header: a new address in
    it each time does not start a new count."""
    for i in range(PER_ADDRESS):
        answer = auth.attempt(f"user-{i}", WRONG, headers={"X-Forwarded-For": f"198.51.100.{i}"})
        assert answer.status_code == 401
    answer = auth.attempt("someone-new", WRONG, headers={"X-Forwarded-For": "203.0.113.99"})
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
    assert len(password_checks) == PER_ADDRESS


@pytest.mark.parametrize("app_config", [{"PROXY_FIX_X_FOR": 1}], ids=["behind-one-proxy"])
def test_behind_the_proxy_each_client_address_is_counted_apart(auth, client, password_checks, fast_passwords):
    """nginx appends the client's address to X-Forwarded-For; the app takes that one."""
    guesser = {"X-Forwarded-For": "203.0.113.7"}
    for i in range(PER_ADDRESS):
        assert auth.attempt(f"user-{i}", WRONG, headers=guesser).status_code == 401
    assert auth.attempt("someone-new", WRONG, headers=guesser).status_code == 429
    # What a forged X-Forwarded-For looks like after nginx appended the real address:
    forged = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    assert auth.attempt("someone-new", WRONG, headers=forged).status_code == 429
    colleague = {"X-Forwarded-For": "198.51.100.20"}
    assert auth.attempt("a-colleague", WRONG, headers=colleague).status_code == 401


def test_a_refused_setting_names_itself(monkeypatch, _database):
    from app.infra.config import SettingError

    monkeypatch.setenv("LOGIN_FAILURES_PER_USERNAME", "0")
    with pytest.raises(SettingError, match="LOGIN_FAILURES_PER_USERNAME"):
        make_app(_database)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (the shared count)")
def test_two_processes_share_one_count_through_redis(app, auth, client, password_checks):
    auth.create()
    for _ in range(PER_USERNAME):
        assert auth.attempt(password=WRONG).status_code == 401
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"])  # another process, the same Redis
    try:
        answer = Auth(other, other.test_client()).attempt()
        assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
        assert len(password_checks) == PER_USERNAME
    finally:
        from app.extensions import db

        with other.app_context():
            db.engine.dispose()


@pytest.mark.parametrize("app_config", [{"REDIS_URL": "redis://127.0.0.1:9/2"}], ids=["redis-down"])
def test_with_redis_down_logins_still_answer_and_wrong_ones_are_still_counted(auth, client, fast_passwords):
    """Nothing listens on port 9: the throttle counts in this process meanwhile, rather than
    refusing (or failing) every login."""
    auth.create()
    for _ in range(PER_USERNAME):
        assert auth.attempt(password=WRONG).status_code == 401
    assert auth.attempt(password=WRONG).status_code == 429
    assert auth.attempt("nia", WRONG).status_code == 401

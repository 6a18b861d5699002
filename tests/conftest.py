"""Shared fixtures. SQLite by default; PostgreSQL when DATABASE_URL is set (CI runs both).

Fixtures: `app`, `client`, `runner`, `hook` (signed OneTablet webhooks), `api` (customer
app calls), `menu` (a store with a menu), `live_server` (a real threaded server on
127.0.0.1 with Socket.IO). Plain helpers (order_body, wait_for, the keys…) live in
tests/helpers.py: import them from there, never from this file."""
from __future__ import annotations

import os
import subprocess
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from tests.helpers import (MENU, ONETABLET_KEY, PLATFORM_KEY, WEBHOOK_SECRET, Api, Auth, FrozenClock, Hook, LiveServer,
                           StaffBrowser, free_port, make_app, order_body)


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "passline.sqlite3")


@pytest.fixture(scope="session")
def _database(tmp_path_factory):
    """The schema, built once per test run."""
    url = database_url(tmp_path_factory)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
    return url


def _empty_all_tables():
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def _processes_only_in_slow_tests(request, monkeypatch):
    """`-m "not browser and not slow"` (make test-fast) must mean what it says: a test that
    starts a process fails unless it is marked `slow` (or `browser`: Chromium is one)."""
    if request.node.get_closest_marker("slow") or request.node.get_closest_marker("browser"):
        return

    def refuse(*args, **kwargs):
        raise AssertionError(f"{request.node.nodeid} starts a process: mark it @pytest.mark.slow")

    monkeypatch.setattr(subprocess, "Popen", refuse)


@pytest.fixture
def app_config():
    """Override to change the app's settings in a test module."""
    return {}


@pytest.fixture
def app(_database, app_config):
    app = make_app(_database, **app_config)
    with app.app_context():
        _empty_all_tables()
    from app.auth import throttle

    throttle.reset(app)  # wrong passwords of earlier tests (in Redis) do not count against this one
    yield app
    from app.infra import live

    live.drain(app)  # pushes still on their way read the database this test leaves
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    """`flask --app wsgi …` as wsgi.py builds it: the app's commands and the developer ones."""
    import devtools

    devtools.register(app)
    return app.test_cli_runner()


@pytest.fixture
def hook(client):
    return Hook(client)


@pytest.fixture
def menu(hook):
    """Store `store-1` with the MENU above, pushed by OneTablet."""
    assert hook.menu("store-1", MENU).status_code == 200
    return "store-1"


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def submitted(api, menu):
    """A delivery order in `submitted`; returns its id."""
    body = order_body()
    assert api.create(body).status_code == 201
    return body["id"]


@pytest.fixture
def live_server(app, app_config):
    """The app served over real HTTP on this test's database (and Redis): in this process
    (threads) by default; PASSLINE_TEST_SERVING=gunicorn or =flask serves it as production
    (`gunicorn -c gunicorn.conf.py`) or as the embedded default (`flask --app wsgi run`)
    do, in a process of its own (gevent), with the test app's keys and its `app_config`
    (as environment variables: the names are the same)."""
    serving = os.environ.get("PASSLINE_TEST_SERVING", "in-process")
    if serving == "in-process":
        with LiveServer(app) as server:
            yield server
        return
    from bench import servers

    env = servers.passline_env(app.config["SQLALCHEMY_DATABASE_URI"], redis_url=app.config["REDIS_URL"],
                               webhook_secret=WEBHOOK_SECRET, platform_key=PLATFORM_KEY,
                               SECRET_KEY=app.config["SECRET_KEY"], ONETABLET_API_KEY=ONETABLET_KEY,
                               **{name: str(value) for name, value in app_config.items()})
    with servers.Server(env, serve=serving) as server:
        yield server


@pytest.fixture
def auth(app, client):
    return Auth(app, client)


@pytest.fixture
def password_checks(monkeypatch):
    """Every password hash that login checks, as (stored hash, password) pairs: what a
    login costs, counted instead of timed."""
    from app.services import accounts

    checked = []
    real = accounts.check_password_hash

    def counting(stored, password):
        checked.append((stored, password))
        return real(stored, password)

    monkeypatch.setattr("app.services.accounts.check_password_hash", counting)
    return checked


@pytest.fixture
def frozen_clock(monkeypatch):
    clock = FrozenClock(datetime.now(timezone.utc).replace(microsecond=0))
    monkeypatch.setattr("app.infra.clock.now", clock)
    return clock


@pytest.fixture
def passline_servers(app):
    """Start real Passline processes (gunicorn, production settings) on this test's database
    and Redis: `server = passline_servers()`; all are stopped after the test. They accept
    bench.traffic's signed webhooks and API key."""
    from bench import servers, traffic

    started = []

    def start(**env):
        server = servers.Server(servers.passline_env(
            app.config["SQLALCHEMY_DATABASE_URI"], redis_url=app.config["REDIS_URL"],
            webhook_secret=traffic.SECRET, platform_key=traffic.PLATFORM_KEY, **env))
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def onetablet(app):
    """The OneTablet simulator's API on a free port, not started: OneTablet is down (its
    port refuses connections) until the test calls `onetablet.start()`. Passline's
    ONETABLET_API_URL points at it; `onetablet.calls` holds what it received."""
    from devtools.simulator import Simulator

    simulator = Simulator(api_key=ONETABLET_KEY, webhook_secret=WEBHOOK_SECRET, port=free_port())
    app.config["ONETABLET_API_URL"] = simulator.url
    yield simulator
    simulator.stop()


@pytest.fixture
def outbox_worker(app):
    """An outbox worker without threads: `outbox_worker.drain()` sends what is due now."""
    import random

    from app.outbox.sender import Worker

    worker = Worker(app, senders=0, name="test-worker", rng=random.Random(7))
    yield worker
    worker.stop()


@pytest.fixture
def fast_passwords(monkeypatch):
    """Cheap password hashes (one PBKDF2 round) for tests that log many people in: the real
    scrypt hash costs ~0.2 s each time. Still a real hash, checked by the real code."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    monkeypatch.setattr("app.services.accounts.generate_password_hash",
                        partial(generate_password_hash, method="pbkdf2:sha256:1"))


@pytest.fixture
def staff(auth, client):
    """`staff.login("manager")`, then `staff.post(path, {...})` with its CSRF token."""
    return StaffBrowser(auth, client)


@pytest.fixture
def courier(app):
    """An active courier, Mike Rivera; returns his id."""
    from app.models import Courier

    with app.app_context():
        mike = Courier(name="Mike Rivera", phone="+15559876543")
        db.session.add(mike)
        db.session.commit()
        return mike.id


@pytest.fixture
def pushed(monkeypatch):
    """Every Socket.IO event the app emits, as (event, payload)."""
    from app.extensions import socketio

    sent = []
    monkeypatch.setattr(socketio, "emit", lambda event, data, **kw: sent.append((event, data)))
    return sent

"""Shared fixtures. SQLite by default; PostgreSQL when DATABASE_URL is set (CI runs both).

Fixtures: `app`, `client`, `runner`, `hook` (signed OneTablet webhooks), `api` (customer
app calls), `menu` (a store with a menu), `live_server` (a real threaded server on
127.0.0.1 with Socket.IO)."""
from __future__ import annotations

import json
import os
import threading
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.webhooks.signature import sign

WEBHOOK_SECRET = "whsec_" + "cGFzc2xpbmUtdGVzdC13ZWJob29rLXNlY3JldC0zMmI="  # fixed: conftest may be imported twice
PLATFORM_KEY = "test-platform-key"
ONETABLET_KEY = "test-onetablet-key"


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


def make_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "ONETABLET_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PLATFORM_API_KEY": PLATFORM_KEY,
        "ONETABLET_API_KEY": ONETABLET_KEY,
        "ONETABLET_API_URL": "http://127.0.0.1:9/",  # nothing listens: tests start their own
        "PASSLINE_SCHEDULER": "off",
        "PASSLINE_OUTBOX_WORKER": "off",
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
    }
    config.update(overrides)
    return create_app(config)


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
    from app import live

    live.drain(app)  # pushes still on their way read the database this test leaves
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def signed_headers(body: bytes | str, *, webhook_id: str | None = None, timestamp: datetime | None = None,
                   secret: str = WEBHOOK_SECRET) -> dict:
    headers = sign(secret, body, webhook_id=webhook_id or f"msg_{uuid.uuid4().hex}", timestamp=timestamp)
    headers["Content-Type"] = "application/json"
    return headers


class Hook:
    """Send signed OneTablet webhooks through a Flask test client (or `requests` base URL)."""

    def __init__(self, client):
        self.client = client

    def send(self, method: str, path: str, body, *, webhook_id=None, timestamp=None, headers=None):
        raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
        sent = signed_headers(raw, webhook_id=webhook_id, timestamp=timestamp)
        sent.update(headers or {})
        return self.client.open("/onetablet" + path, method=method, data=raw, headers=sent)

    def confirm(self, order_id, prep_time=None, **kw):
        body = {"merchant_supplied_id": f"R-{order_id}", "order_status": "success"}
        if prep_time is not None:
            body["prep_time"] = prep_time
        return self.send("PATCH", f"/orders/{order_id}", body, **kw)

    def reject(self, order_id, reason="Store is currently closed", **kw):
        body = {"merchant_supplied_id": f"R-{order_id}", "order_status": "fail", "failure_reason": reason}
        return self.send("PATCH", f"/orders/{order_id}", body, **kw)

    def ready(self, order_id, **kw):
        body = {"merchant_supplied_id": f"R-{order_id}"}
        return self.send("PATCH", f"/orders/{order_id}/events/order_ready_for_pickup", body, **kw)

    def cancel(self, order_id, reason="KITCHEN_BUSY", details=None, **kw):
        body = {"cancel_reason": reason}
        if details:
            body["cancel_details"] = details
        return self.send("PATCH", f"/orders/{order_id}/cancellation", body, **kw)

    def store_status(self, store_id, is_active, reason=None, **kw):
        body = {"is_active": is_active}
        if reason:
            body["reason"] = reason
        return self.send("PATCH", f"/stores/{store_id}/status", body, **kw)

    def items(self, store_id, availability: dict, **kw):
        body = {"items": [{"merchant_supplied_id": k, "is_available": v} for k, v in availability.items()]}
        return self.send("PATCH", f"/stores/{store_id}/items", body, **kw)

    def menu(self, store_id, categories, **kw):
        return self.send("PUT", f"/stores/{store_id}/menu", {"categories": categories}, **kw)


@pytest.fixture
def hook(client):
    return Hook(client)


MENU = [
    {"name": "Burgers", "items": [
        {"merchant_supplied_id": "burger", "name": "Smash Burger", "price": 1200},
        {"merchant_supplied_id": "fries", "name": "Fries", "price": 450},
    ]},
    {"name": "Drinks", "items": [{"merchant_supplied_id": "cola", "name": "Cola", "price": 300}]},
]


@pytest.fixture
def menu(hook):
    """Store `store-1` with the MENU above, pushed by OneTablet."""
    assert hook.menu("store-1", MENU).status_code == 200
    return "store-1"


def order_body(order_id=None, *, store="store-1", pickup=False, fulfillment=None, **extra) -> dict:
    body = {
        "id": order_id or f"ord-{uuid.uuid4().hex[:10]}",
        "store_order_cart_id": "cart-1",
        "store": {"merchant_supplied_id": store, "provider_type": "passline", "timezone": "America/New_York"},
        "consumer": {"id": 12345, "first_name": "John", "last_name": "Doe", "phone": "+15551234567"},
        "subtotal": 2100,
        "tax": 189,
        "tip": 300,
        "is_pickup": pickup,
        "estimated_pickup_time": "2024-01-15T18:30:00Z",
        "categories": [{"name": "Burgers", "items": [
            {"merchant_supplied_id": "burger", "quantity": 1, "price": 1200,
             "options": [{"name": "No onions"}]},
            {"merchant_supplied_id": "fries", "quantity": 2, "price": 450},
        ]}],
    }
    if fulfillment:
        body["fulfillment_type"] = fulfillment
    body.update(extra)
    return body


class Api:
    def __init__(self, client):
        self.client = client
        self.headers = {"Authorization": f"Bearer {PLATFORM_KEY}"}

    def create(self, body):
        return self.client.post("/api/orders", json=body, headers=self.headers)

    def get(self, order_id):
        return self.client.get(f"/api/orders/{order_id}", headers=self.headers)

    def order(self, order_id) -> dict:
        response = self.get(order_id)
        assert response.status_code == 200, response.get_json()
        return response.get_json()


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def submitted(api, menu):
    """A delivery order in `submitted`; returns its id."""
    body = order_body()
    assert api.create(body).status_code == 201
    return body["id"]


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app):
    with LiveServer(app) as server:
        yield server


def csrf_token(client, path="/login") -> str:
    """The CSRF token of the client's session, read from a page's <meta name=csrf-token>."""
    import re

    page = client.get(path).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match, f"no csrf-token meta tag on {path}"
    return match.group(1)


class Auth:
    """Log staff in and out through the real form, CSRF token included (flaskr's pattern)."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def create(self, username="dana", role="dispatcher", password="correct horse"):
        from app import users

        with self.app.app_context():
            users.create_user(username, role=role, password=password)
            db.session.commit()
        return username

    def login(self, username="dana", password="correct horse", role="dispatcher", create=True):
        if create:
            self.create(username, role, password)
        response = self.attempt(username, password)
        assert response.status_code == 303, response.get_data(as_text=True)
        return response

    def attempt(self, username="dana", password="correct horse", query="", headers=None):
        """POST the login form as a browser would (the form's token), whatever the answer."""
        return self.client.post("/login" + query, headers=headers or {}, data={
            "username": username, "password": password, "csrf_token": csrf_token(self.client)})

    def token(self, path="/login"):
        return csrf_token(self.client, path)


@pytest.fixture
def auth(app, client):
    return Auth(app, client)


@pytest.fixture
def password_checks(monkeypatch):
    """Every password hash that login checks, as (stored hash, password) pairs: what a
    login costs, counted instead of timed."""
    from app import users

    checked = []
    real = users.check_password_hash

    def counting(stored, password):
        checked.append((stored, password))
        return real(stored, password)

    monkeypatch.setattr("app.users.check_password_hash", counting)
    return checked


class FrozenClock:
    """`app.clock.now` under a test's control: starts at the real time (so signed webhooks
    stay inside their window) and moves only when told."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        from datetime import timedelta

        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def frozen_clock(monkeypatch):
    clock = FrozenClock(datetime.now(timezone.utc).replace(microsecond=0))
    monkeypatch.setattr("app.clock.now", clock)
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
    import socket

    from app.onetablet.simulator import Simulator

    with socket.socket() as probe:  # a port nothing listens on yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    simulator = Simulator(api_key=ONETABLET_KEY, webhook_secret=WEBHOOK_SECRET, port=port)
    app.config["ONETABLET_API_URL"] = simulator.url
    yield simulator
    simulator.stop()


@pytest.fixture
def outbox_worker(app):
    """An outbox worker without threads: `outbox_worker.drain()` sends what is due now."""
    import random

    from app.onetablet.worker import Worker

    worker = Worker(app, senders=0, name="test-worker", rng=random.Random(7))
    yield worker
    worker.stop()


@pytest.fixture
def fast_passwords(monkeypatch):
    """Cheap password hashes (one PBKDF2 round) for tests that log many people in: the real
    scrypt hash costs ~0.2 s each time. Still a real hash, checked by the real code."""
    from functools import partial

    from werkzeug.security import generate_password_hash

    monkeypatch.setattr("app.users.generate_password_hash",
                        partial(generate_password_hash, method="pbkdf2:sha256:1"))


class StaffBrowser:
    """A staff member's session through the test client: log in with a role, then post
    forms the way the pages do (CSRF token included, optionally as htmx)."""

    def __init__(self, auth, client):
        self.auth, self.client, self._token = auth, client, None

    def login(self, role="dispatcher", username=None):
        username = username or f"{role}-{uuid.uuid4().hex[:6]}"
        self.auth.login(username, role=role)
        self._token = csrf_token(self.client)
        self.username = username
        return self

    def get(self, path, htmx=False, **kw):
        return self.client.get(path, headers={"HX-Request": "true"} if htmx else {}, **kw)

    def post(self, path, data=None, htmx=False, csrf=True):
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self._token
        return self.client.post(path, data=data, headers={"HX-Request": "true"} if htmx else {})


@pytest.fixture
def staff(auth, client):
    """`staff.login("manager")`, then `staff.post(path, {...})` with its CSRF token."""
    return StaffBrowser(auth, client)


def wait_for(condition, timeout: float = 10.0, every: float = 0.02):
    """Poll `condition` until it returns something truthy (returned) or `timeout` seconds
    pass (None): for what another thread or process does, never a bare sleep."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result or None
        time.sleep(every)


@pytest.fixture
def courier(app):
    """An active courier, Mike Rivera; returns his id."""
    from app.models import Courier

    with app.app_context():
        mike = Courier(name="Mike Rivera", phone="+15559876543")
        db.session.add(mike)
        db.session.commit()
        return mike.id


def nested_json(depth: int, kind: str = "object", inner: bytes = b"1") -> bytes:
    """`inner` inside `depth` JSON objects ({"x":…}) or arrays, built as text: json.dumps
    would recurse, and give up near 1000 levels."""
    opening, closing = (b'{"x":', b"}") if kind == "object" else (b"[", b"]")
    return opening * depth + inner + closing * depth


def webhook_faults(app) -> int:
    """How many webhooks the log holds as a fault of ours (a 5xx)."""
    from sqlalchemy import func, select

    from app.models import WebhookReceipt

    with app.app_context():
        return db.session.execute(select(func.count()).select_from(WebhookReceipt)
                                  .where(WebhookReceipt.status_code >= 500)).scalar_one()

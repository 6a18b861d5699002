"""Plain test helpers: the keys the test app is configured with, bodies, signed webhooks,
clients for the API and the staff pages, and `wait_for`. Tests import them from here
(`from tests.helpers import order_body`); tests/conftest.py holds only fixtures, built on
these. Nothing imports conftest as a module (tests/unit/test_test_layout.py checks)."""
from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.infra.signing import sign

WEBHOOK_SECRET = "whsec_" + "cGFzc2xpbmUtdGVzdC13ZWJob29rLXNlY3JldC0zMmI="
PLATFORM_KEY = "test-platform-key"
ONETABLET_KEY = "test-onetablet-key"


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


MENU = [
    {"name": "Burgers", "items": [
        {"merchant_supplied_id": "burger", "name": "Smash Burger", "price": 1200},
        {"merchant_supplied_id": "fries", "name": "Fries", "price": 450},
    ]},
    {"name": "Drinks", "items": [{"merchant_supplied_id": "cola", "name": "Cola", "price": 300}]},
]


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


def csrf_token(client, path="/login") -> str:
    """The CSRF token of the client's session, read from a page's <meta name=csrf-token>."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match, f"no csrf-token meta tag on {path}"
    return match.group(1)


class Auth:
    """Log staff in and out through the real form, CSRF token included (flaskr's pattern)."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def create(self, username="dana", role="dispatcher", password="correct horse"):
        from app.services import accounts

        with self.app.app_context():
            accounts.create_user(username, role=role, password=password)
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


class FrozenClock:
    """`app.clock.now` under a test's control: starts at the real time (so signed webhooks
    stay inside their window) and moves only when told."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


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


def add_couriers(app, *names: str) -> dict[str, int]:
    """Active couriers with these names (and made-up E.164 phones): {first name: id}."""
    from app.models import Courier

    with app.app_context():
        couriers = [Courier(name=name, phone=f"+1555000{i:04d}") for i, name in enumerate(names, 1)]
        db.session.add_all(couriers)
        db.session.commit()
        return {c.first_name: c.id for c in couriers}


def order_updates(event: str, data) -> list[dict]:
    """The order cards of one Socket.IO event: "order" carries one, "orders" the several that
    piled up while the live publisher was busy (app/infra/live.py); other events none."""
    return [data] if event == "order" else list(data) if event == "orders" else []


def wait_for(condition, timeout: float = 10.0, every: float = 0.02):
    """Poll `condition` until it returns something truthy (returned) or `timeout` seconds
    pass (None): for what another thread or process does, never a bare sleep."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result or None
        time.sleep(every)


def free_port() -> int:
    """A port nothing listens on yet, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def nested_json(depth: int, kind: str = "object", inner: bytes = b"1") -> bytes:
    """`inner` inside `depth` JSON objects ({"x":…}) or arrays, built as text: json.dumps
    would recurse, and give up near 1000 levels."""
    opening, closing = (b'{"x":', b"}") if kind == "object" else (b"[", b"]")
    return opening * depth + inner + closing * depth


def webhook_faults(app) -> int:
    """How many webhooks the log holds as a fault of ours (a 5xx)."""
    from app.models import WebhookReceipt

    with app.app_context():
        return db.session.execute(select(func.count()).select_from(WebhookReceipt)
                                  .where(WebhookReceipt.status_code >= 500)).scalar_one()

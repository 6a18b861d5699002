"""Realistic traffic for a Passline server: a store's menu, customer orders through the API,
and OneTablet's signed webhooks on them, as raw requests for bench.load."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

from app.infra.signing import new_secret

from . import load
from .load import Request

SECRET = new_secret()
PLATFORM_KEY = "bench-platform-key"
STORE = "store-bench"
MENU = [
    {"name": "Mains", "items": [
        {"merchant_supplied_id": "burger", "name": "Smash Burger", "price": 1200},
        {"merchant_supplied_id": "bowl", "name": "Rice Bowl", "price": 1350},
    ]},
    {"name": "Sides", "items": [
        {"merchant_supplied_id": "fries", "name": "Fries", "price": 450},
        {"merchant_supplied_id": "cola", "name": "Cola", "price": 300},
    ]},
]


def signed_headers(raw: bytes, *, webhook_id: str | None = None, secret: str = SECRET) -> dict:
    """Standard Webhooks headers for any bytes, UTF-8 or not (fuzzing sends both)."""
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    timestamp = str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()
    return {"webhook-id": webhook_id, "webhook-timestamp": timestamp,
            "webhook-signature": "v1," + base64.b64encode(digest).decode(),
            "Content-Type": "application/json"}


def webhook(method: str, path: str, body, *, webhook_id: str | None = None, tag=None,
            secret: str = SECRET) -> Request:
    """A webhook OneTablet would send: JSON body (or the bytes given), signed."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Request(method, "/onetablet" + path, raw, signed_headers(raw, webhook_id=webhook_id, secret=secret), tag)


def confirm(order_id: str, prep_minutes: int = 15, **kw) -> Request:
    body = {"merchant_supplied_id": f"R-{order_id}", "order_status": "success", "prep_time": prep_minutes}
    return webhook("PATCH", f"/orders/{order_id}", body, **kw)


def reject(order_id: str, reason: str = "Store is currently closed", **kw) -> Request:
    body = {"merchant_supplied_id": f"R-{order_id}", "order_status": "fail", "failure_reason": reason}
    return webhook("PATCH", f"/orders/{order_id}", body, **kw)


def ready(order_id: str, **kw) -> Request:
    return webhook("PATCH", f"/orders/{order_id}/events/order_ready_for_pickup",
                   {"merchant_supplied_id": f"R-{order_id}"}, **kw)


def cancel(order_id: str, reason: str = "KITCHEN_BUSY", **kw) -> Request:
    body = {"cancel_reason": reason, "cancel_details": "the fryer is down"}
    return webhook("PATCH", f"/orders/{order_id}/cancellation", body, **kw)


def menu(store: str = STORE) -> Request:
    return webhook("PUT", f"/stores/{store}/menu", {"categories": MENU})


def order(order_id: str, store: str = STORE) -> Request:
    """A customer's delivery order, as the customer app posts it."""
    body = {
        "id": order_id,
        "store_order_cart_id": f"cart-{order_id}",
        "delivery_short_code": order_id[-6:].upper(),
        "store": {"merchant_supplied_id": store, "provider_type": "passline", "timezone": "America/New_York"},
        "consumer": {"id": 4242, "first_name": "Ada", "last_name": "Lovelace", "phone": "+15551234567",
                     "email": "ada@example.com"},
        "subtotal": 2100, "tax": 189, "tip": 300, "delivery_fee": 299,
        "is_pickup": False, "fulfillment_type": "mx_fleet_delivery",
        "estimated_pickup_time": "2026-11-28T18:30:00Z",
        "delivery_address": {"street": "1 Main St", "city": "Springfield", "zip": "12345"},
        "categories": [
            {"name": "Mains", "items": [{"merchant_supplied_id": "burger", "quantity": 1, "price": 1200,
                                         "options": [{"name": "No onions"}]}]},
            {"name": "Sides", "items": [{"merchant_supplied_id": "fries", "quantity": 2, "price": 450}]},
        ],
    }
    headers = {"Authorization": f"Bearer {PLATFORM_KEY}", "Content-Type": "application/json"}
    return Request("POST", "/api/orders", json.dumps(body).encode(), headers, order_id)


def new_ids(count: int, prefix: str = "ord") -> list[str]:
    run = uuid.uuid4().hex[:6]
    return [f"{prefix}-{run}-{i:05d}" for i in range(count)]


def create_orders(base_url, order_ids: list[str], *, store: str = STORE, concurrency: int = 8) -> None:
    """The store's menu, then every order through POST /api/orders (on one server, or spread
    over a list of them); raises unless all are 201."""
    first = base_url if isinstance(base_url, str) else base_url[0]
    result = load.run(first, [[menu(store)]], 1)
    if result.statuses != {200: 1}:
        raise RuntimeError(f"menu push failed: {result.answers[0].body[:300]!r}")
    result = load.run(base_url, [[order(i, store)] for i in order_ids], concurrency)
    if result.statuses != {201: len(order_ids)}:
        bad = next(a for a in result.answers if a.status != 201)
        raise RuntimeError(f"order creation: {dict(result.statuses)}; e.g. {bad.status} {bad.body[:300]!r}")

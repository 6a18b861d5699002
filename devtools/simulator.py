"""A stand-in for OneTablet: its three API calls, and restaurants that answer orders.

`Simulator` serves OneTablet's API on 127.0.0.1 (bearer key and payloads checked as
OneTablet would; `POST /orders` answered with a `client_order_id`; one answer per
Idempotency-Key) and records every call it receives with its headers, so tests can read
them. With a `target` (Passline's base URL) it also plays the restaurants: it pushes their
menus, accepts orders with a `prep_time` or rejects them, marks them ready or cancels them
with a reason code, pauses stores and 86s items — each after a realistic delay, by
configurable odds, through webhooks signed with the Standard Webhooks secret. It can
misbehave on purpose: duplicate or out-of-order webhooks, 5xx or slow API answers.

Tests start and stop it in-process; `flask --app wsgi onetablet-sim` runs it alone.
"""
from __future__ import annotations

import heapq
import itertools
import json
import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional
from urllib.parse import quote

import requests
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from app.infra import routing
from app.domain.lifecycle import CANCEL_REASONS, COURIER_STATUSES
from app.infra.signing import sign
from .restaurants import Restaurant

log = logging.getLogger(__name__)

REJECT_REASONS = ("Store is currently closed", "Kitchen is too busy to take orders right now",
                  "An item in this order is sold out", "Delivery address is outside our area")
CANCEL_DETAILS = {"ITEM_OUT_OF_STOCK": "Requested item no longer available",
                  "STORE_CLOSED": "Closing early tonight", "KITCHEN_BUSY": "Kitchen capacity exceeded",
                  "OTHER": "Customer called the store to cancel"}
PAUSE_REASONS = ("Kitchen closed for cleaning", "Too busy: catching up on orders", "Power outage")
WEBHOOK_TRIES = 8  # OneTablet retries a webhook that was not answered 2xx (4xx are final)


@dataclass
class Behaviour:
    """How the restaurants and the API behave. Times are restaurant time; `speed` scales
    them (60: a restaurant minute passes in a second)."""

    speed: float = 1.0
    confirm_seconds: tuple[float, float] = (60, 240)  # the guide: confirmation in 1-5 minutes
    prep_minutes: Optional[tuple[float, float]] = None  # None: each restaurant's own
    reject_odds: float = 0.07
    cancel_odds: float = 0.05  # the restaurant cancels instead of readying
    pause_every_minutes: float = 0  # mean time between store pauses; 0 = never
    pause_minutes: tuple[float, float] = (4, 12)
    eighty_six_every_minutes: float = 0  # mean time between 86'd items; 0 = never
    eighty_six_minutes: tuple[float, float] = (8, 25)
    # Misbehaviour, each by its odds.
    duplicate_odds: float = 0.0  # a webhook sent twice (same webhook-id, or the same event anew)
    reorder_odds: float = 0.0  # the confirmation arrives after the ready (or the cancel)
    error_odds: float = 0.0  # an API call answered 503 with Retry-After
    slow_odds: float = 0.0  # an API call answered after `slow_seconds`
    slow_seconds: float = 5.0
    # Tests decide each order's fate: a function of the order body returning "ready",
    # "reject" or a cancel reason code. None: by the odds above.
    decide: Optional[Callable[[dict], str]] = None
    seed: Optional[int] = None


@dataclass
class Call:
    """One API call as received."""

    method: str
    path: str
    headers: dict
    body: Optional[dict]
    status: int = 0
    at: float = field(default_factory=time.time)

    @property
    def idempotency_key(self) -> Optional[str]:
        return self.headers.get("Idempotency-Key")


@dataclass
class Webhook:
    method: str
    path: str
    body: dict
    webhook_id: str
    status: Optional[int] = None  # Passline's last answer (None: not reached)


@dataclass
class SimOrder:
    id: str
    client_order_id: str
    store: str
    body: dict
    merchant_order_id: str
    state: str = "received"  # received | confirmed | rejected | ready | cancelled
    dasher_status: Optional[str] = None
    held: list = field(default_factory=list)  # webhooks held back to arrive out of order


class _Timers:
    """One thread running callbacks at their time, in time order."""

    def __init__(self):
        self._heap: list = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="onetablet-sim-timers", daemon=True)
        self._thread.start()

    def after(self, seconds: float, fn: Callable, *args) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, seconds), next(self._seq), fn, args))
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._cond.wait(None if not self._heap else self._heap[0][0] - time.monotonic())
                if self._stopped:
                    return
                _, _, fn, args = heapq.heappop(self._heap)
            try:
                fn(*args)
            except Exception:  # one bad callback must not stop the restaurants
                log.exception("simulator callback %s failed", getattr(fn, "__name__", fn))


class Simulator:
    def __init__(self, *, api_key: str, webhook_secret: Optional[str] = None, target: Optional[str] = None,
                 restaurants: list[Restaurant] = (), behaviour: Optional[Behaviour] = None,
                 host: str = "127.0.0.1", port: int = 0):
        self.api_key, self.webhook_secret = api_key, webhook_secret
        self.target = target.rstrip("/") if target else None
        self.restaurants = {r.merchant_supplied_id: r for r in restaurants}
        self.behaviour = behaviour or Behaviour()
        self.host, self.port = host, port
        self.rng = random.Random(self.behaviour.seed)
        self.calls: list[Call] = []
        self.webhooks: list[Webhook] = []
        self.orders: dict[str, SimOrder] = {}
        self.paused: set[str] = set()
        self._answers: dict[str, tuple[int, dict]] = {}  # Idempotency-Key -> the first final answer
        self._forced: list[tuple[int, dict, dict]] = []
        self._lock = threading.RLock()
        self._server = self._thread = self._timers = None
        self._http = requests.Session()
        self.app = self._build_app()

    # --- running -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, *, push_menus: bool = True) -> "Simulator":
        self._server = make_server(self.host, self.port, self.app, threaded=True)
        self.port = self._server.server_port  # kept, so a restart listens where Passline calls
        self._thread = threading.Thread(target=self._server.serve_forever, name="onetablet-sim", daemon=True)
        self._thread.start()
        if self._timers is None:
            self._timers = _Timers()
            if self.target and self.restaurants:
                if push_menus:
                    self._timers.after(0, self.push_menus)
                self._schedule_store_events()
        return self

    def stop_api(self) -> None:
        """Stop answering the API (connections are refused); the restaurants go on."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
            self._server = None

    def stop(self) -> None:
        self.stop_api()
        if self._timers is not None:
            self._timers.stop()
            self._timers = None
        self._http.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def fail_next(self, count: int, status: int = 503, *, retry_after: Optional[str] = None,
                  body: Optional[dict] = None) -> None:
        """Answer the next `count` API calls with `status` (and Retry-After), whatever they are."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        with self._lock:
            self._forced.extend([(status, headers, body or {"error": "forced", "detail": f"HTTP {status}"})] * count)

    def adopt(self, body: dict, client_order_id: str, state: str) -> None:
        """Know an order OneTablet took before this simulator started (its memory is not
        durable): a restart of the demo finishes the orders the last run left open."""
        with self._lock:
            order = SimOrder(id=body["id"], client_order_id=client_order_id, store=body["store"]["merchant_supplied_id"],
                             body=body, merchant_order_id=f"POS-{self.rng.randint(10000, 99999)}",
                             state="received" if state == "submitted" else state)
            self.orders[order.id] = order
        if self._timers and self.target:
            if order.state == "received":
                self._later(self.rng.uniform(*self.behaviour.confirm_seconds), self._decide, order)
            elif order.state == "confirmed":
                self._later(self.rng.uniform(60, 300), self._finish, order, "ready")

    def calls_to(self, suffix: str = "", method: str = "POST") -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and c.path.endswith(suffix)]

    # --- the API -------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask("onetablet_simulator")
        routing.for_order_ids(app)

        @app.post("/orders")
        def create_order():
            return self._handle(self._create_order)

        @app.post("/orders/<order_id:order_id>/delivery-status")
        def delivery_status(order_id):
            return self._handle(self._delivery_status, order_id)

        @app.post("/orders/<order_id:order_id>/cancel")
        def cancel(order_id):
            return self._handle(self._cancel, order_id)

        return app

    def _handle(self, operation, *args):
        body = request.get_json(silent=True)
        call = Call(request.method, request.path, dict(request.headers), body)
        with self._lock:
            self.calls.append(call)
            forced = self._forced.pop(0) if self._forced else None
        status, answer, headers = self._answer(operation, body, args, forced)
        call.status = status
        return jsonify(answer), status, headers

    def _answer(self, operation, body, args, forced):
        if forced:
            status, headers, answer = forced
            return status, answer, headers
        behaviour = self.behaviour
        if behaviour.error_odds and self.rng.random() < behaviour.error_odds:
            return 503, _error("unavailable", "OneTablet is having a moment"), {"Retry-After": "1"}
        if behaviour.slow_odds and self.rng.random() < behaviour.slow_odds:
            time.sleep(behaviour.slow_seconds)
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or key.strip() != self.api_key:
            return 401, _error("unauthorized", "send Authorization: Bearer <your API key>"), {}
        if not isinstance(body, dict):
            return 400, _error("bad_request", "the body must be a JSON object"), {}
        idempotency_key = request.headers.get("Idempotency-Key")
        with self._lock:
            if idempotency_key and idempotency_key in self._answers:
                status, answer = self._answers[idempotency_key]  # a retry: same answer, no new effect
                return status, answer, {}
            status, answer = operation(body, *args)
            if idempotency_key:
                self._answers[idempotency_key] = (status, answer)
        return status, answer, {}

    def _create_order(self, body):
        problem = _order_problem(body)
        if problem:
            return 422, _error("invalid_order", problem)
        store = body["store"]["merchant_supplied_id"]
        if self.restaurants and store not in self.restaurants:
            return 404, _error("unknown_store", f"no store {store!r} on OneTablet")
        if body["id"] in self.orders:
            return 409, _error("duplicate_order", f"order {body['id']!r} was already submitted")
        order = SimOrder(id=body["id"], client_order_id=f"ot_{uuid.uuid4().hex[:16]}", store=store, body=body,
                         merchant_order_id=f"POS-{self.rng.randint(10000, 99999)}")
        self.orders[order.id] = order
        if self.target and self._timers:
            self._later(self.rng.uniform(*self.behaviour.confirm_seconds), self._decide, order)
        return 201, {"client_order_id": order.client_order_id, "status": "received"}

    def _known(self, order_id, body):
        order = self.orders.get(order_id)
        if order is None:
            return None, (404, _error("unknown_order", f"no order {order_id!r}"))
        if body.get("client_order_id") != order.client_order_id:
            return None, (422, _error("invalid_payload",
                                      f"client_order_id must be {order.client_order_id!r}, got {body.get('client_order_id')!r}"))
        return order, None

    def _delivery_status(self, body, order_id):
        order, refusal = self._known(order_id, body)
        if refusal:
            return refusal
        if body.get("dasher_status") not in COURIER_STATUSES:
            return 422, _error("invalid_payload", f"dasher_status must be one of {', '.join(COURIER_STATUSES)}")
        dasher = body.get("dasher")
        if not isinstance(dasher, dict) or not all(isinstance(dasher.get(k), str)
                                                   for k in ("first_name", "phone_number")):
            return 422, _error("invalid_payload", "dasher needs first_name and phone_number (strings)")
        order.dasher_status = body["dasher_status"]
        return 200, {"status": "ok", "dasher_status": order.dasher_status}

    def _cancel(self, body, order_id):
        order, refusal = self._known(order_id, body)
        if refusal:
            return refusal
        store = (body.get("store") or {}).get("merchant_supplied_id") if isinstance(body.get("store"), dict) else None
        if store != order.store:
            return 422, _error("invalid_payload", f"store.merchant_supplied_id must be {order.store!r}")
        if not isinstance(body.get("reason"), str) or not body["reason"].strip():
            return 422, _error("invalid_payload", "reason is required")
        order.state = "cancelled"  # the kitchen stops
        return 200, {"status": "cancelled"}

    # --- the restaurants ------------------------------------------------------------------

    def _later(self, restaurant_seconds: float, fn, *args) -> None:
        self._timers.after(restaurant_seconds / self.behaviour.speed, fn, *args)

    def _decide(self, order: SimOrder) -> None:
        with self._lock:
            if order.state != "received":
                return
            fate = self._fate(order)
            if fate == "reject":
                order.state = "rejected"
                reason = "Store is currently closed" if order.store in self.paused else self.rng.choice(REJECT_REASONS)
                self._order_hook(order, "", {"order_status": "fail", "failure_reason": reason})
                return
            order.state = "confirmed"
            restaurant = self.restaurants.get(order.store)
            minutes = self.behaviour.prep_minutes or (restaurant.prep_minutes if restaurant else (8, 22))
            prep_seconds = self.rng.uniform(*minutes) * 60 / self.behaviour.speed
            prep_time = datetime.now(timezone.utc) + timedelta(seconds=prep_seconds)
            confirmation = {"order_status": "success", "prep_time": prep_time.isoformat().replace("+00:00", "Z")}
            if self.rng.random() < self.behaviour.reorder_odds:
                order.held.append(("", confirmation))
            else:
                self._order_hook(order, "", confirmation)
            self._timers.after(prep_seconds, self._finish, order, fate)

    def _fate(self, order: SimOrder) -> str:
        behaviour = self.behaviour
        if behaviour.decide:
            return behaviour.decide(order.body)
        if order.store in self.paused:
            return "reject"
        draw = self.rng.random()
        if draw < behaviour.reject_odds:
            return "reject"
        if draw < behaviour.reject_odds + behaviour.cancel_odds:
            return self.rng.choice(CANCEL_REASONS)
        return "ready"

    def _finish(self, order: SimOrder, fate: str) -> None:
        with self._lock:
            if order.state != "confirmed":
                return  # cancelled by the platform meanwhile
            if fate in CANCEL_REASONS:
                order.state = "cancelled"
                self._send("PATCH", f"/orders/{quote(order.id, safe='')}/cancellation",
                           {"cancel_reason": fate, "cancel_details": CANCEL_DETAILS[fate]})
            else:
                order.state = "ready"
                self._order_hook(order, "/events/order_ready_for_pickup", {})
            for suffix, body in order.held:  # what was held back arrives now, out of order
                self._order_hook(order, suffix, body)
            order.held.clear()

    def _order_hook(self, order: SimOrder, suffix: str, body: dict) -> None:
        self._send("PATCH", f"/orders/{quote(order.id, safe='')}{suffix}", {"merchant_supplied_id": order.merchant_order_id, **body})

    def push_menus(self) -> None:
        for restaurant in self.restaurants.values():
            self._send("PUT", f"/stores/{restaurant.merchant_supplied_id}/menu",
                       {"categories": restaurant.categories})
            self._send("PATCH", f"/stores/{restaurant.merchant_supplied_id}/status", {"is_active": True})

    def _schedule_store_events(self) -> None:
        behaviour = self.behaviour
        if behaviour.pause_every_minutes:
            self._later(self.rng.expovariate(1 / (behaviour.pause_every_minutes * 60)), self._pause_a_store)
        if behaviour.eighty_six_every_minutes:
            self._later(self.rng.expovariate(1 / (behaviour.eighty_six_every_minutes * 60)), self._eighty_six)

    def _pause_a_store(self) -> None:
        behaviour = self.behaviour
        with self._lock:
            open_stores = [s for s in self.restaurants if s not in self.paused]
            if open_stores:
                store = self.rng.choice(open_stores)
                minutes = self.rng.uniform(*behaviour.pause_minutes)
                resume_at = datetime.now(timezone.utc) + timedelta(seconds=minutes * 60 / behaviour.speed)
                self.paused.add(store)
                self._send("PATCH", f"/stores/{store}/status", {
                    "is_active": False, "reason": self.rng.choice(PAUSE_REASONS),
                    "resume_at": resume_at.isoformat().replace("+00:00", "Z")})
                self._later(minutes * 60, self._resume, store)
        self._later(self.rng.expovariate(1 / (behaviour.pause_every_minutes * 60)), self._pause_a_store)

    def _resume(self, store: str) -> None:
        with self._lock:
            self.paused.discard(store)
            self._send("PATCH", f"/stores/{store}/status", {"is_active": True})

    def _eighty_six(self) -> None:
        behaviour = self.behaviour
        restaurant = self.rng.choice(list(self.restaurants.values()))
        item = self.rng.choice(restaurant.items())["merchant_supplied_id"]
        path = f"/stores/{restaurant.merchant_supplied_id}/items"
        self._send("PATCH", path, {"items": [{"merchant_supplied_id": item, "is_available": False}]})
        self._later(self.rng.uniform(*behaviour.eighty_six_minutes) * 60, self._send, "PATCH", path,
                    {"items": [{"merchant_supplied_id": item, "is_available": True}]})
        self._later(self.rng.expovariate(1 / (behaviour.eighty_six_every_minutes * 60)), self._eighty_six)

    # --- webhooks ------------------------------------------------------------------------

    def _send(self, method: str, path: str, body: dict) -> None:
        """Queue a signed webhook; sometimes (by the odds) twice."""
        hook = Webhook(method, path, body, f"msg_{uuid.uuid4().hex}")
        with self._lock:
            self.webhooks.append(hook)
        self._timers.after(0, self._deliver, hook, 1)
        if self.behaviour.duplicate_odds and self.rng.random() < self.behaviour.duplicate_odds:
            # Half the time OneTablet's retry (same webhook-id), half the same event anew.
            twin = hook if self.rng.random() < 0.5 else Webhook(method, path, body, f"msg_{uuid.uuid4().hex}")
            self._timers.after(0.05, self._deliver, twin, 1)

    def _deliver(self, hook: Webhook, attempt: int) -> None:
        raw = json.dumps(hook.body)
        headers = {"Content-Type": "application/json", "User-Agent": "OneTablet-Simulator/1"}
        if self.webhook_secret:
            headers.update(sign(self.webhook_secret, raw, webhook_id=hook.webhook_id))
        try:
            response = self._http.request(hook.method, f"{self.target}/onetablet{hook.path}", data=raw,
                                          headers=headers, timeout=(3, 30))
            hook.status = response.status_code
            retry = response.status_code >= 500 or response.status_code == 429
        except requests.RequestException as error:
            log.info("webhook %s %s not delivered (try %s): %s", hook.method, hook.path, attempt, error)
            retry = True
        if retry and attempt < WEBHOOK_TRIES:
            self._timers.after(min(30.0, 0.5 * 2 ** (attempt - 1)), self._deliver, hook, attempt + 1)


def _error(code: str, detail: str) -> dict:
    return {"error": code, "detail": detail}


def _order_problem(body: dict) -> Optional[str]:
    """What OneTablet would refuse in a POST /orders body, or None."""
    if not isinstance(body.get("id"), str) or not body["id"].strip():
        return "id is required (a non-empty string)"
    store = body.get("store")
    if not isinstance(store, dict) or not isinstance(store.get("merchant_supplied_id"), str):
        return "store.merchant_supplied_id is required"
    consumer = body.get("consumer")
    if not isinstance(consumer, dict) or not isinstance(consumer.get("first_name"), str):
        return "consumer.first_name is required"
    for money in ("subtotal", "tax"):
        value = body.get(money)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"{money} must be integer cents >= 0"
    if "is_pickup" in body and not isinstance(body["is_pickup"], bool):  # absent: fulfillment_type says
        return "is_pickup must be a boolean"
    categories = body.get("categories")
    if not isinstance(categories, list) or not categories:
        return "categories must be a non-empty list"
    for c, category in enumerate(categories):
        items = category.get("items") if isinstance(category, dict) else None
        if not isinstance(items, list) or not items:
            return f"categories[{c}].items must be a non-empty list"
        for i, item in enumerate(items):
            where = f"categories[{c}].items[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("merchant_supplied_id"), str):
                return f"{where}.merchant_supplied_id is required"
            quantity, price = item.get("quantity"), item.get("price")
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                return f"{where}.quantity must be an integer >= 1"
            if not isinstance(price, int) or isinstance(price, bool) or price < 0:
                return f"{where}.price must be integer cents >= 0"
    return None

"""POST /api/orders, GET /api/orders/<id>, GET /api/openapi.json."""
from __future__ import annotations

import hashlib
import hmac
import json

from flask import current_app, jsonify, request, url_for
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from .. import clock, orders, refusals, stores
from ..bodies import BadBody, json_object, raw_body
from ..extensions import csrf, db
from ..lifecycle import Submit
from ..models import Order
from ..validation import describe, problems, unstorable
from . import bp
from .openapi import document
from .schemas import NewOrder

ACTOR = "customer_app"

csrf.exempt(bp)


class ApiError(Exception):
    def __init__(self, status, error, detail, fields=None):
        super().__init__(detail)
        self.status, self.error, self.detail, self.fields = status, error, detail, fields


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    db.session.rollback()
    body = {"error": error.error, "detail": error.detail}
    if error.fields:
        body["fields"] = error.fields
    return jsonify(body), error.status


@bp.before_request
def _authenticate():
    if request.endpoint == "api.openapi":
        return None
    key = current_app.config.get("PLATFORM_API_KEY")
    if not key:
        raise ApiError(503, "not_configured", "PLATFORM_API_KEY is not set on this server")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), key.encode()):
        # Refused before a byte of the body is read, and nothing is kept. Logged (never the
        # key sent; at most once a second): a rotated key the customer app lacks shows here first.
        passed_over = refusals.throttle("api").take(clock.now().timestamp())
        if passed_over is not None:
            why = "no bearer key" if scheme.lower() != "bearer" else "wrong PLATFORM_API_KEY"
            current_app.logger.warning("api: %s %s refused: %s%s", request.method, refusals.short(request.path),
                                       why, refusals.passed_over_note(passed_over))
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <PLATFORM_API_KEY>")
    return None


@bp.post("/orders")
def create_order():
    """Accept a customer's order: validate it, store it as submitted, queue it for OneTablet."""
    data = _json_body()
    try:
        new = NewOrder.model_validate(data)
    except ValidationError as error:
        raise ApiError(422, "invalid_order", describe(error), problems(error)) from None
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    existing = db.session.get(Order, new.id)
    if existing is not None:
        return _repeat(existing, digest)
    store = _orderable_store(new)
    order = _build(new, data, digest, store)
    db.session.add(order)
    orders.apply(order, Submit(), actor=ACTOR, payload=data)
    try:
        db.session.commit()
    except IntegrityError:  # the same id posted at the same instant
        db.session.rollback()
        existing = db.session.get(Order, new.id)
        if existing is None:
            raise
        return _repeat(existing, digest)
    response = jsonify(orders.to_json(order, timeline=True))
    response.headers["Location"] = url_for("api.get_order", order_id=order.id)
    return response, 201


@bp.get("/orders/<order_id:order_id>")
def get_order(order_id):
    """The order, its state, courier, overdue flag, failed calls and timeline."""
    order = None if unstorable(order_id) else db.session.get(Order, order_id)
    if order is None:
        raise ApiError(404, "unknown_order", f"no order with id {order_id!r}")
    return jsonify(orders.to_json(order, timeline=True))


@bp.get("/openapi.json")
def openapi():
    """OpenAPI 3 description of /api and /onetablet."""
    return jsonify(document())


def _json_body():
    try:
        return json_object(raw_body())
    except BadBody as error:
        if error.status == 400:
            raise ApiError(400, "not_json", error.detail) from None
        field, _, message = error.detail.partition(": ")
        raise ApiError(422, "invalid_order", error.detail, [{"field": field, "message": message}]) from None


def _repeat(existing: Order, digest: str):
    """The same id again: the same body is a retry (200), another body a conflict (409)."""
    if existing.payload_hash != digest:
        raise ApiError(409, "id_conflict",
                       f"order {existing.id!r} already exists with a different body",
                       [{"field": "id", "message": "already used for another order"}])
    return jsonify(orders.to_json(existing, timeline=True)), 200


def _orderable_store(new: NewOrder):
    ref = new.store.merchant_supplied_id
    store = stores.get(ref)
    if store is None:
        raise ApiError(422, "unknown_store", f"no store with merchant_supplied_id {ref!r}",
                       [{"field": "store.merchant_supplied_id", "message": "unknown store"}])
    if not store.is_active:
        why = f": {store.pause_reason}" if store.pause_reason else ""
        raise ApiError(409, "store_paused", f"store {ref!r} is paused{why}",
                       [{"field": "store.merchant_supplied_id", "message": "store is paused"}])
    menu = {item.merchant_supplied_id: item for item in store.items if item.on_menu}
    for path, item in new.items():
        known = menu.get(item.merchant_supplied_id)
        field = f"{path}.merchant_supplied_id"
        if known is None:
            raise ApiError(422, "unknown_item", f"{field}: {item.merchant_supplied_id!r} is not on the menu",
                           [{"field": field, "message": "not on the store's menu"}])
        if not known.is_available:
            raise ApiError(409, "item_unavailable", f"{field}: {known.name or item.merchant_supplied_id!r} is 86'd",
                           [{"field": field, "message": "item is unavailable (86'd)"}])
    # The order may fill in a time zone Passline does not know yet, never overwrite one:
    # an admin's choice outlives whatever the customer app says.
    if not store.timezone_set and new.store.timezone and _valid_timezone(new.store.timezone):
        store.timezone = new.store.timezone
    return store


def _valid_timezone(name: str) -> bool:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
        return True
    except Exception:
        return False


def _build(new: NewOrder, data: dict, digest: str, store) -> Order:
    extras = sum(v or 0 for v in (new.tip, new.delivery_fee, new.service_fee))
    consumer = new.consumer
    return Order(
        id=new.id,
        store=store,
        store_id=store.id,
        fulfillment_type=new.fulfillment_type,
        payload=data,
        payload_hash=digest,
        customer_first_name=consumer.first_name,
        customer_name=" ".join(p for p in (consumer.first_name, consumer.last_name) if p),
        item_count=sum(item.quantity for _, item in new.items()),
        subtotal=new.subtotal,
        tax=new.tax,
        total=new.subtotal + new.tax + extras,
        version=1,
        overdue_level=0,
    )

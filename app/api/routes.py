"""POST /api/orders, GET /api/orders/<id>, GET /api/openapi.json."""
from __future__ import annotations

import hashlib
import hmac
import json

from flask import Blueprint, current_app, jsonify, request, url_for
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from ..infra import clock, refusals
from ..services import customer_orders, orders
from ..infra.bodies import BadBody, json_object, raw_body
from ..extensions import csrf, db
from ..models import Order
from ..infra.validation import describe, problems, unstorable
from .openapi import document
from .schemas import NewOrder

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)  # a bearer key, not a session: nothing for a forged form to ride on


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
    try:
        order = customer_orders.submit(new, data, digest)
    except customer_orders.Refused as refused:
        raise ApiError(refused.status, refused.error, refused.detail,
                       [{"field": refused.field, "message": refused.message}]) from None
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

"""The OpenAPI 3 document of /api and /onetablet, built from the same pydantic models that
validate the requests, so the description cannot drift from the checks."""
from __future__ import annotations

from functools import lru_cache

from ..webhooks import schemas as hooks
from .schemas import NewOrder

ERROR = {"type": "object", "required": ["error", "detail"],
         "properties": {"error": {"type": "string"}, "detail": {"type": "string"},
                        "fields": {"type": "array", "items": {"type": "object"}}}}
ORDER = {"type": "object", "required": ["id", "state", "fulfillment_type", "timeline"],
         "properties": {
             "id": {"type": "string"},
             "state": {"type": "string", "enum": ["submitted", "confirmed", "rejected", "ready",
                                                  "in_transit", "completed", "cancelled"]},
             "fulfillment_type": {"type": "string"},
             "courier": {"type": ["object", "null"]},
             "courier_status": {"type": ["string", "null"]},
             "overdue": {"type": ["string", "null"]},
             "failed_calls": {"type": "array", "items": {"type": "object"}},
             "timeline": {"type": "array", "items": {
                 "type": "object", "required": ["at", "actor", "event", "from_state", "to_state", "implied"],
                 "properties": {"at": {"type": "string"}, "actor": {"type": "string"},
                                "event": {"type": "string"}, "from_state": {"type": ["string", "null"]},
                                "to_state": {"type": "string"}, "implied": {"type": "boolean"}}}},
         }}
WEBHOOK_HEADERS = [
    {"name": n, "in": "header", "required": True, "schema": {"type": "string"}}
    for n in ("webhook-id", "webhook-timestamp", "webhook-signature")
]


def _schema(model) -> dict:
    return model.model_json_schema(ref_template="#/components/schemas/{model}")


def _json(schema) -> dict:
    return {"application/json": {"schema": schema}}


def _errors(*codes) -> dict:
    text = {400: "not JSON", 401: "missing or bad credentials / signature", 404: "unknown order or store",
            409: "forbidden by the order lifecycle, or a conflict", 413: "body over 1 MiB",
            422: "JSON that breaks the schema", 503: "not configured on this server"}
    return {str(c): {"description": text[c], "content": _json({"$ref": "#/components/schemas/Error"})}
            for c in codes}


def _webhook(summary, model, *, order=True) -> dict:
    param = "order_id" if order else "store_id"
    return {
        "summary": summary,
        "security": [{"standardWebhooks": []}],
        "parameters": [{"name": param, "in": "path", "required": True, "schema": {"type": "string"}},
                       *WEBHOOK_HEADERS],
        "requestBody": {"required": True, "content": _json({"$ref": f"#/components/schemas/{model.__name__}"})},
        "responses": {"200": {"description": "applied, or a duplicate applied once",
                              "content": _json({"type": "object"})},
                      **_errors(400, 401, 404, 409, 413, 422, 503)},
    }


@lru_cache(maxsize=1)
def document() -> dict:
    models = [NewOrder, hooks.OrderConfirmation, hooks.OrderReady, hooks.OrderCancellation,
              hooks.StoreStatus, hooks.StoreItems, hooks.StoreMenu]
    components = {}
    for model in models:
        schema = _schema(model)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    components["Error"] = ERROR
    components["Order"] = ORDER
    order_ref = _json({"$ref": "#/components/schemas/Order"})
    return {
        "openapi": "3.1.0",
        "info": {"title": "Passline", "version": "1.0.0",
                 "description": "Customer-app API and OneTablet webhooks of Passline."},
        "components": {
            "schemas": components,
            "securitySchemes": {
                "platformKey": {"type": "http", "scheme": "bearer",
                                "description": "PLATFORM_API_KEY"},
                "standardWebhooks": {"type": "apiKey", "in": "header", "name": "webhook-signature",
                                     "description": "Standard Webhooks HMAC-SHA256 with ONETABLET_WEBHOOK_SECRET"},
            },
        },
        "paths": {
            "/api/orders": {"post": {
                "summary": "Submit a customer's order",
                "security": [{"platformKey": []}],
                "requestBody": {"required": True, "content": _json({"$ref": "#/components/schemas/NewOrder"})},
                "responses": {"201": {"description": "stored as submitted", "content": order_ref},
                              "200": {"description": "the same order again (idempotent)", "content": order_ref},
                              **_errors(400, 401, 409, 413, 422, 503)},
            }},
            "/api/orders/{order_id}": {"get": {
                "summary": "An order with its timeline",
                "security": [{"platformKey": []}],
                "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "the order", "content": order_ref}, **_errors(401, 404, 503)},
            }},
            "/onetablet/orders/{order_id}": {"patch": _webhook("Order confirmed or rejected", hooks.OrderConfirmation)},
            "/onetablet/orders/{order_id}/events/order_ready_for_pickup": {
                "patch": _webhook("Order ready for pickup", hooks.OrderReady)},
            "/onetablet/orders/{order_id}/cancellation": {
                "patch": _webhook("Order cancelled by the restaurant", hooks.OrderCancellation)},
            "/onetablet/stores/{store_id}/status": {
                "patch": _webhook("Store paused or resumed", hooks.StoreStatus, order=False)},
            "/onetablet/stores/{store_id}/items": {
                "patch": _webhook("Items 86'd or back", hooks.StoreItems, order=False)},
            "/onetablet/stores/{store_id}/menu": {
                "put": _webhook("Menu replaced", hooks.StoreMenu, order=False)},
        },
    }

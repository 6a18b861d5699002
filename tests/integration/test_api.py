"""The customer app's API (contract §3.3): every answer code."""
import json

import pytest

from app.extensions import db
from app.models import Order, OutboxMessage
from tests.helpers import PLATFORM_KEY, order_body


def test_a_valid_order_is_stored_as_submitted_and_queued_for_onetablet(app, api, menu):
    body = order_body("A-1", delivery_address={"street": "1 Main St"}, instructions="ring twice")
    response = api.create(body)
    assert response.status_code == 201
    order = response.get_json()
    assert (order["id"], order["state"], order["fulfillment_type"]) == ("A-1", "submitted", "mx_fleet_delivery")
    assert order["total"] == 2100 + 189 + 300 and order["item_count"] == 3
    assert response.headers["Location"].endswith("/api/orders/A-1")
    with app.app_context():
        [call] = db.session.query(OutboxMessage).all()
        # OneTablet gets the platform's order whole, unknown fields included
        assert (call.kind, call.path, call.payload) == ("create_order", "/orders", body)


def test_fulfillment_type_follows_is_pickup_when_absent(api, menu):
    assert api.create(order_body(pickup=True)).get_json()["fulfillment_type"] == "pickup"
    assert api.create(order_body(fulfillment="dx_delivery")).get_json()["fulfillment_type"] == "dx_delivery"


def test_a_pickup_fulfillment_type_without_is_pickup_is_a_pickup_order(app, api, menu):
    body = order_body(fulfillment="pickup")
    del body["is_pickup"]
    response = api.create(body)
    assert response.status_code == 201 and response.get_json()["fulfillment_type"] == "pickup"
    with app.app_context():  # OneTablet gets the body as sent: no is_pickup made up
        assert "is_pickup" not in db.session.get(Order, body["id"]).payload


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "1e400"])
def test_nan_and_infinity_are_not_json(api, menu, constant):
    raw = json.dumps(order_body(delivery_address={"lat": 0.5})).replace("0.5", constant)
    response = api.client.post("/api/orders", data=raw, headers={**api.headers, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"] == "not_json"


def test_the_same_order_again_is_200_and_nothing_new(app, api, menu):
    body = order_body("A-2")
    assert api.create(body).status_code == 201
    again = api.create(body)
    assert again.status_code == 200 and again.get_json()["id"] == "A-2"
    with app.app_context():
        assert db.session.query(OutboxMessage).count() == 1
    assert len(api.order("A-2")["timeline"]) == 1


def test_the_same_id_with_another_body_is_409(api, menu):
    api.create(order_body("A-3"))
    response = api.create(order_body("A-3", tax=190))
    assert response.status_code == 409 and response.get_json()["error"] == "id_conflict"


def test_the_order_reads_back_with_its_timeline(api, hook, submitted):
    hook.ready(submitted)
    order = api.order(submitted)
    assert [(t["event"], t["from_state"], t["to_state"], t["implied"]) for t in order["timeline"]] == [
        ("submitted", None, "submitted", False),
        ("confirmed", "submitted", "confirmed", True),
        ("ready", "confirmed", "ready", False),
    ]
    assert all(t["at"] and t["actor"] for t in order["timeline"])
    assert order["overdue"] is None and order["failed_calls"] == [] and order["courier"] is None


def test_unknown_order_is_404(api):
    response = api.get("nope")
    assert response.status_code == 404 and response.get_json()["error"] == "unknown_order"


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {PLATFORM_KEY}", "Bearer"])
def test_without_the_platform_key_it_is_401(client, menu, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post("/api/orders", json=order_body(), headers=headers)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert client.get("/api/orders/x", headers=headers).status_code == 401


def test_not_json_is_400(client, menu):
    response = client.post("/api/orders", data="{oops", headers={"Authorization": f"Bearer {PLATFORM_KEY}"})
    assert response.status_code == 400 and response.get_json()["error"] == "not_json"


def _without(body, *path):
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


@pytest.mark.parametrize("change, field", [
    (lambda b: _without(b, "id"), "id"),
    (lambda b: b.update(id=""), "id"),
    (lambda b: b.update(id="   "), "id"),
    (lambda b: b.update(id="x/cancellation"), "id"),  # its webhooks' paths would be another's
    (lambda b: b.update(id="y/events/order_ready_for_pickup"), "id"),
    (lambda b: b.update(is_pickup=None), "is_pickup"),
    (lambda b: b.update(id="x" * 256), "id"),
    (lambda b: _without(b, "store"), "store"),
    (lambda b: _without(b, "consumer"), "consumer"),
    (lambda b: b.update(subtotal=-1), "subtotal"),
    (lambda b: b.update(subtotal=21.5), "subtotal"),
    (lambda b: b.update(tax="189"), "tax"),
    # Money the total adds up must fit its 32-bit column (a 500 once); times, a datetime.
    (lambda b: b.update(tip=2_147_483_648), "tip"),
    (lambda b: b.update(delivery_fee=-1), "delivery_fee"),
    (lambda b: b.update(service_fee=1.5), "service_fee"),
    (lambda b: b["categories"][0]["items"][0].update(price=10**12), "categories[0].items[0].price"),
    (lambda b: b.update(estimated_pickup_time="9999-12-31T23:59:59Z"), "estimated_pickup_time"),
    (lambda b: b.update(categories=[]), "categories"),
    (lambda b: b["categories"][0]["items"][1].update(quantity=0), "categories[0].items[1].quantity"),
    (lambda b: _without(b, "categories", 0, "items", 0, "price"), "categories[0].items[0].price"),
    (lambda b: _without(b, "categories", 0, "items", 1, "merchant_supplied_id"),
     "categories[0].items[1].merchant_supplied_id"),
    (lambda b: b.update(fulfillment_type="drone"), "fulfillment_type"),
    (lambda b: b.update(fulfillment_type="pickup", is_pickup=False), "fulfillment_type"),
])
def test_a_broken_order_is_422_naming_the_field(app, api, menu, change, field):
    body = order_body()
    change(body)
    response = api.create(body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()
    assert error["error"] == "invalid_order" and error["fields"][0]["field"] == field
    assert error["detail"].startswith(field + ": ") and "Value error" not in error["detail"]
    with app.app_context():
        assert db.session.query(OutboxMessage).count() == 0


def test_an_unknown_store_is_422(api, menu):
    response = api.create(order_body(store="ghost"))
    assert response.status_code == 422 and response.get_json()["fields"][0]["field"] == "store.merchant_supplied_id"


def test_an_item_not_on_the_menu_is_422(api, menu):
    body = order_body()
    body["categories"][0]["items"][1]["merchant_supplied_id"] = "lobster"
    response = api.create(body)
    assert response.status_code == 422
    assert response.get_json()["fields"][0]["field"] == "categories[0].items[1].merchant_supplied_id"


def test_a_paused_store_refuses_orders_with_409(api, hook, menu):
    hook.store_status(menu, False, reason="Power cut")
    response = api.create(order_body())
    assert response.status_code == 409 and response.get_json()["error"] == "store_paused"
    assert "Power cut" in response.get_json()["detail"]
    hook.store_status(menu, True)
    assert api.create(order_body()).status_code == 201


def test_an_86d_item_is_refused_with_409_naming_it(api, hook, menu):
    hook.items(menu, {"fries": False})
    response = api.create(order_body())
    assert response.status_code == 409 and response.get_json()["error"] == "item_unavailable"
    assert response.get_json()["fields"][0]["field"] == "categories[0].items[1].merchant_supplied_id"


def test_the_openapi_document_describes_api_and_webhooks(client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/orders", "/api/orders/{order_id}", "/onetablet/orders/{order_id}",
            "/onetablet/orders/{order_id}/events/order_ready_for_pickup",
            "/onetablet/orders/{order_id}/cancellation", "/onetablet/stores/{store_id}/status",
            "/onetablet/stores/{store_id}/items", "/onetablet/stores/{store_id}/menu"} <= set(doc["paths"])
    assert {"200", "400", "401", "404", "409", "413", "422"} <= set(
        doc["paths"]["/onetablet/orders/{order_id}"]["patch"]["responses"])
    assert "NewOrder" in doc["components"]["schemas"]


def test_an_id_with_a_leading_slash_is_its_own_order_everywhere(api, hook, menu, staff):
    """Ids are any string: `/x` and `x` are two orders, and the paths that carry `/x`
    (`…/orders//x`, or `%2Fx`, which the server decodes to the same) reach `/x`, not `x`."""
    for order_id in ("lead", "/lead", "a//b"):
        assert api.create(order_body(order_id)).status_code == 201
    assert hook.reject("/lead", reason="for /lead only").status_code == 200
    assert hook.confirm("a//b").status_code == 200
    assert api.order("/lead")["state"] == "rejected" and api.order("lead")["state"] == "submitted"
    assert api.order("a//b")["state"] == "confirmed"
    assert api.client.get("/api/orders/%2Flead", headers=api.headers).get_json()["id"] == "/lead"
    detail = staff.login().get("/orders//lead")
    assert detail.status_code == 200 and 'data-detail-id="/lead"' in detail.get_data(as_text=True)


def test_a_wrong_platform_key_is_logged_without_the_key(client, menu, caplog):
    with caplog.at_level("WARNING"):
        assert client.get("/api/orders/x", headers={"Authorization": "Bearer guessed-key"}).status_code == 401
    assert any("wrong PLATFORM_API_KEY" in r.getMessage() for r in caplog.records)
    assert not any("guessed-key" in r.getMessage() or PLATFORM_KEY in r.getMessage() for r in caplog.records)

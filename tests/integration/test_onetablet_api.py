"""The simulator's API answers as OneTablet would: bearer key, payload checks naming the
field, a client_order_id, one answer per Idempotency-Key."""
import pytest
import requests

from tests.helpers import ONETABLET_KEY, order_body


@pytest.fixture
def api_up(onetablet):
    onetablet.start()
    session = requests.Session()

    def call(path, body, key=ONETABLET_KEY, idempotency_key=None):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return session.post(onetablet.url + path, json=body, headers=headers, timeout=5)

    yield call
    session.close()


def test_without_the_bearer_key_calls_are_refused(api_up):
    assert api_up("/orders", order_body(), key=None).status_code == 401
    assert api_up("/orders", order_body(), key="wrong").status_code == 401


def test_an_order_is_answered_with_onetablets_client_order_id(api_up, onetablet):
    response = api_up("/orders", order_body("o-1"))
    assert response.status_code == 201
    assert response.json()["client_order_id"] == onetablet.orders["o-1"].client_order_id


@pytest.mark.parametrize("change, field", [
    (lambda b: b.pop("id"), "id"),
    (lambda b: b["store"].pop("merchant_supplied_id"), "store.merchant_supplied_id"),
    (lambda b: b.update(subtotal=21.5), "subtotal"),
    (lambda b: b["categories"][0]["items"][1].update(quantity=0), "categories[0].items[1].quantity"),
    (lambda b: b["categories"][0]["items"][0].update(price="12"), "categories[0].items[0].price"),
    (lambda b: b.update(is_pickup="no"), "is_pickup"),
])
def test_an_order_that_breaks_the_schema_is_refused_naming_the_field(api_up, change, field):
    body = order_body()
    change(body)
    response = api_up("/orders", body)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(field)


def test_an_order_may_leave_is_pickup_to_its_fulfillment_type(api_up):
    body = order_body(fulfillment="pickup")
    del body["is_pickup"]  # Passline's API takes it so (contract §3.3), and forwards the body whole
    assert api_up("/orders", body).status_code == 201


def test_a_retry_with_the_same_idempotency_key_gets_the_same_answer_and_no_second_order(api_up, onetablet):
    first = api_up("/orders", order_body("o-1"), idempotency_key="k-1")
    again = api_up("/orders", order_body("o-1"), idempotency_key="k-1")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    other_key = api_up("/orders", order_body("o-1"), idempotency_key="k-2")
    assert other_key.status_code == 409
    assert len(onetablet.orders) == 1


def test_delivery_status_and_cancel_need_the_client_order_id_and_valid_fields(api_up):
    client_order_id = api_up("/orders", order_body("o-1")).json()["client_order_id"]
    status = {"client_order_id": client_order_id, "dasher_status": "arriving_at_store",
              "dasher": {"first_name": "Mike", "phone_number": "+15559876543"}}
    assert api_up("/orders/o-1/delivery-status", status).status_code == 200
    assert api_up("/orders/o-1/delivery-status", {**status, "client_order_id": None}).status_code == 422
    assert api_up("/orders/o-1/delivery-status", {**status, "dasher_status": "lost"}).status_code == 422
    assert api_up("/orders/o-1/delivery-status", {**status, "dasher": {}}).status_code == 422
    assert api_up("/orders/nope/delivery-status", status).status_code == 404
    cancel = {"store": {"merchant_supplied_id": "store-1"}, "client_order_id": client_order_id,
              "reason": "Customer requested cancellation"}
    assert api_up("/orders/o-1/cancel", {**cancel, "store": {"merchant_supplied_id": "other"}}).status_code == 422
    assert api_up("/orders/o-1/cancel", {**cancel, "reason": ""}).status_code == 422
    assert api_up("/orders/o-1/cancel", cancel).status_code == 200


def test_calls_are_recorded_with_their_headers(api_up, onetablet):
    api_up("/orders", order_body("o-1"), idempotency_key="k-1")
    [call] = onetablet.calls
    assert (call.method, call.path, call.status, call.idempotency_key) == ("POST", "/orders", 201, "k-1")
    assert call.headers["Authorization"] == f"Bearer {ONETABLET_KEY}"
    assert call.body["id"] == "o-1"


def test_misbehaving_on_purpose_it_answers_503_with_retry_after_or_slowly(api_up, onetablet):
    onetablet.behaviour.error_odds = 1
    response = api_up("/orders", order_body())
    assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
    onetablet.behaviour.error_odds, onetablet.behaviour.slow_odds = 0, 1
    onetablet.behaviour.slow_seconds = 0.5
    with pytest.raises(requests.ReadTimeout):
        requests.post(onetablet.url + "/orders", json=order_body(), timeout=(1, 0.1),
                      headers={"Authorization": f"Bearer {ONETABLET_KEY}"})

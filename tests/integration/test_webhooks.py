"""OneTablet's webhooks from the HTTP side (contract §3.1), with real signatures:
every answer code, duplicates, reordering, and the raw log of what was received."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from app.services import orders
from app.extensions import db
from app.models import OrderEvent, WebhookReceipt
from tests.helpers import signed_headers


def receipts(app):
    with app.app_context():
        return [(r.kind, r.verdict, r.status_code, r.error) for r in
                db.session.query(WebhookReceipt).order_by(WebhookReceipt.id)]


def audit(app, order_id):
    with app.app_context():
        return [(e.event, e.from_state, e.to_state, e.implied, e.refused) for e in
                db.session.query(OrderEvent).filter_by(order_id=order_id).order_by(OrderEvent.id)]


# --- 200 -----------------------------------------------------------------------------

def test_confirmation_confirms_and_keeps_the_restaurant_data(hook, api, submitted):
    response = hook.confirm(submitted, prep_time="2026-11-28T19:30:00Z")
    assert response.status_code == 200 and response.get_json()["status"] == "applied"
    order = api.order(submitted)
    assert order["state"] == "confirmed"
    assert order["merchant_supplied_id"] == f"R-{submitted}"
    assert order["prep_time"] == "2026-11-28T19:30:00+00:00"
    assert order["timeline"][-1]["actor"] == "onetablet"


def test_prep_time_in_minutes_counts_from_the_webhook(hook, api, submitted):
    sent = datetime(2026, 11, 28, 19, 0, tzinfo=timezone.utc)
    hook.confirm(submitted, prep_time=20, timestamp=datetime.now(timezone.utc))
    order = api.order(submitted)
    assert order["prep_time"] and order["state"] == "confirmed"
    assert sent  # the spec's guide sends a time; minutes are accepted too


def test_rejection_rejects_with_the_reason_and_opens_a_refund(app, hook, api, submitted):
    assert hook.reject(submitted, "Store is currently closed").status_code == 200
    order = api.order(submitted)
    assert (order["state"], order["failure_reason"]) == ("rejected", "Store is currently closed")
    from app.models import Refund

    with app.app_context():
        [refund] = db.session.query(Refund).all()
        assert (refund.order_id, refund.amount, refund.status) == (submitted, order["total"], "pending")


def test_ready_before_confirmation_records_the_implied_confirmation(app, hook, submitted):
    assert hook.ready(submitted).status_code == 200
    assert audit(app, submitted)[1:] == [
        ("confirmed", "submitted", "confirmed", True, False),
        ("ready", "confirmed", "ready", False, False),
    ]


def test_late_confirmation_after_ready_keeps_its_prep_time_without_moving(app, hook, api, submitted):
    hook.ready(submitted)
    assert hook.confirm(submitted, prep_time="2026-11-28T19:30:00Z").status_code == 200
    order = api.order(submitted)
    assert order["state"] == "ready" and order["prep_time"] == "2026-11-28T19:30:00+00:00"
    assert audit(app, submitted)[-1] == ("confirmed", "ready", "ready", False, False)


def finish(app, hook, order_id, terminal, courier):
    """Cancel the order (staff) or deliver it (ready, then the courier's dropoff)."""
    from app.services import actions

    with app.app_context():
        if terminal == "cancelled":
            actions.cancel(order_id, reason="OTHER", details="customer called", actor="staff:dana")
        else:
            assert hook.ready(order_id).status_code == 200
            actions.assign_courier(order_id, courier_id=courier, actor="staff:dana")
            actions.courier_status(order_id, status="dropoff", actor="staff:dana")


@pytest.mark.parametrize("terminal", ["cancelled", "completed"])
def test_a_late_confirmation_of_a_finished_order_keeps_its_data_and_says_so(app, hook, api, submitted, courier,
                                                                            terminal):
    finish(app, hook, submitted, terminal, courier)
    before = api.order(submitted)
    response = hook.send("PATCH", f"/orders/{submitted}", {
        "merchant_supplied_id": "KITCHEN-42", "order_status": "success", "prep_time": "2026-11-28T19:30:00Z"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "applied" and "late" in response.get_json()["detail"]
    order = api.order(submitted)
    assert (order["state"], order["merchant_supplied_id"], order["prep_time"]) == (
        terminal, "KITCHEN-42", "2026-11-28T19:30:00+00:00")
    assert order["deadline"] is None and order["state_changed_at"] == before["state_changed_at"]
    last = order["timeline"][-1]
    assert (last["event"], last["from_state"], last["to_state"], last["refused"]) == (
        "confirmed", terminal, terminal, False)
    assert last["detail"]["late"] is True


@pytest.mark.parametrize("terminal", ["cancelled", "completed"])
def test_a_rejection_of_a_finished_order_is_409_but_keeps_the_restaurants_id(app, hook, api, submitted, courier,
                                                                             terminal):
    finish(app, hook, submitted, terminal, courier)
    if terminal == "completed":  # ready carried the id; a refused rejection does not replace it
        response = hook.reject(submitted)
        assert response.status_code == 409
        assert api.order(submitted)["merchant_supplied_id"] == f"R-{submitted}"
        return
    response = hook.send("PATCH", f"/orders/{submitted}", {
        "merchant_supplied_id": "KITCHEN-42", "order_status": "fail", "failure_reason": "too busy"})
    assert response.status_code == 409 and response.get_json()["error"] == "forbidden"
    order = api.order(submitted)
    assert (order["state"], order["merchant_supplied_id"], order["failure_reason"]) == (
        "cancelled", "KITCHEN-42", None)
    last = order["timeline"][-1]
    assert (last["event"], last["refused"]) == ("rejected", True)
    assert last["detail"]["merchant_supplied_id"] == [None, "KITCHEN-42"]


def test_an_older_confirmation_arriving_later_does_not_overwrite_a_newer_prep_time(app, hook, api, submitted):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    assert hook.confirm(submitted, prep_time="2026-11-28T12:30:00Z", timestamp=now).status_code == 200
    deadline = api.order(submitted)["deadline"]
    stale = hook.confirm(submitted, prep_time="2026-11-28T12:10:00Z", timestamp=now - timedelta(seconds=120))
    assert stale.status_code == 200 and "stale" in stale.get_json()["detail"]
    order = api.order(submitted)
    assert order["prep_time"] == "2026-11-28T12:30:00+00:00" and order["deadline"] == deadline
    last = order["timeline"][-1]
    assert (last["event"], last["from_state"], last["to_state"], last["refused"]) == (
        "confirmed", "confirmed", "confirmed", False)
    assert last["detail"]["stale"]["prep_time"] == "2026-11-28T12:10:00+00:00"
    from app.models import Order

    with app.app_context():
        assert db.session.get(Order, submitted).prep_time_sent_at == now
    # a newer one still moves it, minutes counted from its own timestamp
    assert hook.confirm(submitted, prep_time=40, timestamp=now + timedelta(seconds=30)).status_code == 200
    assert api.order(submitted)["prep_time"] == (now + timedelta(seconds=30, minutes=40)).isoformat()


@pytest.mark.parametrize("reason", ["ITEM_OUT_OF_STOCK", "STORE_CLOSED", "KITCHEN_BUSY", "OTHER"])
def test_cancellation_with_each_reason_code(hook, api, submitted, reason):
    assert hook.cancel(submitted, reason, details="see tablet").status_code == 200
    order = api.order(submitted)
    assert (order["state"], order["cancel_reason"], order["cancel_details"]) == ("cancelled", reason, "see tablet")


def test_the_same_delivery_twice_is_applied_once(app, hook, submitted):
    first = hook.confirm(submitted, webhook_id="msg_same")
    again = hook.confirm(submitted, webhook_id="msg_same")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_json()["status"] == "duplicate"
    assert [a[0] for a in audit(app, submitted)] == ["submitted", "confirmed"]
    assert [r[1] for r in receipts(app)][-2:] == ["applied", "duplicate"]


def test_the_same_event_under_another_webhook_id_is_a_duplicate_too(app, hook, submitted):
    hook.ready(submitted, webhook_id="msg_a")
    response = hook.ready(submitted, webhook_id="msg_b")
    assert response.status_code == 200 and response.get_json()["status"] == "duplicate"
    assert [a[0] for a in audit(app, submitted)].count("ready") == 1


def test_a_reused_webhook_id_is_a_duplicate_and_does_not_swallow_its_event_for_later(app, hook, api, submitted):
    """A delivery refused as a duplicate by its webhook-id leaves no key for its content:
    the same event, sent again properly, is still applied."""
    hook.confirm(submitted, webhook_id="msg_reused")
    reused = hook.ready(submitted, webhook_id="msg_reused")  # another event under a used id
    assert reused.status_code == 200 and reused.get_json()["status"] == "duplicate"
    assert api.order(submitted)["state"] == "confirmed"
    again = hook.ready(submitted, webhook_id="msg_fresh")
    assert again.status_code == 200 and again.get_json()["status"] == "applied"
    assert api.order(submitted)["state"] == "ready"


def test_a_duplicate_is_answered_as_the_first_delivery_was(app, hook, submitted):
    hook.cancel(submitted, webhook_id="msg_cancel")
    refused = hook.ready(submitted, webhook_id="msg_late")
    assert refused.status_code == 409  # ready after cancel: forbidden by the lifecycle
    assert hook.ready(submitted, webhook_id="msg_late").status_code == 409  # its retry: the same
    assert hook.ready(submitted, webhook_id="msg_late_again").status_code == 409  # same event, new id


# --- 400, 401, 404, 409, 413, 422 -------------------------------------------------------

def test_not_json_is_400_with_a_json_error(hook, submitted):
    response = hook.send("PATCH", f"/orders/{submitted}", b"{not json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "not_json" and response.get_json()["detail"]


def test_undecodable_bytes_correctly_signed_are_400(client, submitted):
    raw = b"\xff\xfe\x00garbage"
    from app.infra.signing import _hmac  # the same key derivation the server uses
    import base64
    import time
    from tests.helpers import WEBHOOK_SECRET

    ts = int(time.time())
    sig = base64.b64encode(_hmac(WEBHOOK_SECRET, f"msg_x.{ts}.".encode() + raw)).decode()
    response = client.patch(f"/onetablet/orders/{submitted}", data=raw, headers={
        "webhook-id": "msg_x", "webhook-timestamp": str(ts), "webhook-signature": f"v1,{sig}"})
    assert response.status_code == 400


@pytest.mark.parametrize("tamper", ["missing", "wrong_secret", "body_changed", "old", "future", "garbage"])
def test_bad_signatures_are_401_and_change_nothing(app, client, api, submitted, tamper):
    body = json.dumps({"merchant_supplied_id": "R1", "order_status": "success"})
    headers = signed_headers(body)
    if tamper == "missing":
        del headers["webhook-signature"]
    elif tamper == "wrong_secret":
        headers = signed_headers(body, secret="whsec_" + "QUJD" * 8)
    elif tamper == "body_changed":
        body = body.replace("R1", "R2")
    elif tamper == "old":
        headers = signed_headers(body, timestamp=datetime.now(timezone.utc) - timedelta(minutes=6))
    elif tamper == "future":
        headers = signed_headers(body, timestamp=datetime.now(timezone.utc) + timedelta(minutes=6))
    else:
        headers["webhook-signature"] = "not-a-signature"
    response = client.patch(f"/onetablet/orders/{submitted}", data=body, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "bad_signature" and response.get_json()["detail"]
    assert api.order(submitted)["state"] == "submitted"
    assert receipts(app)[-1][1:3] == ("refused", 401)


def test_unknown_order_is_404(hook, menu):
    response = hook.confirm("no-such-order")
    assert response.status_code == 404 and response.get_json()["error"] == "unknown_order"


def test_items_of_an_unknown_store_are_404(hook):
    response = hook.items("nowhere", {"burger": False})
    assert response.status_code == 404 and response.get_json()["error"] == "unknown_store"


def test_a_forbidden_event_is_409_and_audited(app, hook, api, submitted):
    hook.cancel(submitted, "KITCHEN_BUSY")
    response = hook.ready(submitted)
    assert response.status_code == 409
    assert response.get_json()["error"] == "forbidden" and "cancelled" in response.get_json()["detail"]
    assert api.order(submitted)["state"] == "cancelled"
    assert audit(app, submitted)[-1] == ("ready", "cancelled", "cancelled", False, True)


def test_rejection_after_confirmation_is_409(hook, submitted):
    hook.confirm(submitted)
    assert hook.reject(submitted).status_code == 409


def test_a_forbidden_event_sent_again_gets_the_same_refusal_as_an_error(app, hook, api, submitted):
    hook.confirm(submitted)
    first = hook.reject(submitted)
    again = hook.reject(submitted)  # the same content under a new webhook-id
    assert first.status_code == again.status_code == 409
    assert again.get_json()["error"] == "duplicate" and "not applied" in again.get_json()["detail"]
    assert api.order(submitted)["state"] == "confirmed"
    assert receipts(app)[-1][1:3] == ("duplicate", 409)


def test_nan_and_infinity_are_not_json(app, hook, api, submitted):
    # 1e400 is JSON, but past a double: Python would read Infinity, which PostgreSQL refuses.
    for constant in (b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1.5e999"):
        body = b'{"merchant_supplied_id": "R1", "order_status": "success", "extra": ' + constant + b"}"
        response = hook.send("PATCH", f"/orders/{submitted}", body)
        assert response.status_code == 400 and response.get_json()["error"] == "not_json"
        assert constant.lstrip(b"-").decode() in response.get_json()["detail"]
    assert api.order(submitted)["state"] == "submitted"
    assert receipts(app)[-1][1:3] == ("refused", 400)


def test_a_body_over_one_mebibyte_is_413(app, hook, submitted):
    body = json.dumps({"merchant_supplied_id": "R" * (1024 * 1024), "order_status": "success"})
    response = hook.send("PATCH", f"/orders/{submitted}", body)
    assert response.status_code == 413 and response.get_json()["error"] == "too_large"
    assert receipts(app)[-1][1:3] == ("refused", 413)


@pytest.mark.parametrize("path, body, field", [
    ("/orders/{id}", {"merchant_supplied_id": "R1", "order_status": "maybe"}, "order_status"),
    ("/orders/{id}", {"order_status": "success"}, "merchant_supplied_id"),
    ("/orders/{id}", {"merchant_supplied_id": "R1", "order_status": "success", "prep_time": "soon"}, "prep_time"),
    ("/orders/{id}", {"merchant_supplied_id": "R1", "order_status": "success", "prep_time": "12"}, "prep_time"),
    ("/stores/store-1/status", {"is_active": False, "resume_at": 1700000000}, "resume_at"),
    # Times whose deadlines would overflow (a 500 once), money past the 32-bit columns
    ("/orders/{id}", {"merchant_supplied_id": "R1", "order_status": "success", "prep_time": "9999-12-31T23:59:59Z"},
     "prep_time"),
    ("/stores/store-1/status", {"is_active": False, "resume_at": "0001-01-01T00:00:00Z"}, "resume_at"),
    ("/orders/{id}/cancellation", {"cancel_reason": "BORED"}, "cancel_reason"),
    ("/orders/{id}/events/order_ready_for_pickup", {"merchant_supplied_id": 5}, "merchant_supplied_id"),
    ("/stores/store-1/status", {"is_active": "false"}, "is_active"),
    ("/stores/store-1/items", {"items": [{"merchant_supplied_id": "burger", "is_available": 0}]}, "items[0].is_available"),
    ("/orders/{id}", [1, 2, 3], "(body)"),
])
def test_json_that_breaks_the_schema_is_422_naming_the_field(app, hook, api, submitted, path, body, field):
    method = "PATCH"
    response = hook.send(method, path.format(id=submitted), body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()
    assert error["error"] == "invalid_payload" and error["detail"].startswith(field + ": ")
    assert "Value error" not in error["detail"] and "function-" not in error["detail"]  # for a person
    assert api.order(submitted)["state"] == "submitted"


def test_a_prep_time_that_is_neither_minutes_nor_a_time_gets_one_plain_message(hook, submitted):
    response = hook.confirm(submitted, prep_time="soon")
    assert response.get_json()["detail"] == (
        "prep_time: must be minutes (an integer) or an ISO 8601 date-time, e.g. 2024-01-15T18:30:00Z")
    response = hook.confirm(submitted, prep_time="9999-12-31T23:59:59Z")
    assert response.get_json()["detail"] == "prep_time: must be a date-time between the years 2000 and 2999"


def test_a_menu_price_past_a_million_dollars_is_422_naming_it(app, hook):
    menu = [{"name": "A", "items": [{"merchant_supplied_id": "x", "name": "X", "price": 1_000_000_000_000}]}]
    response = hook.menu("store-2", menu)
    assert response.status_code == 422
    assert response.get_json()["detail"].startswith("categories[0].items[0].price: ")
    assert receipts(app)[-1][1:3] == ("refused", 422)


def test_menu_with_an_item_twice_is_422(hook):
    menu = [{"name": "A", "items": [{"merchant_supplied_id": "x", "name": "X", "price": 1}]},
            {"name": "B", "items": [{"merchant_supplied_id": "x", "name": "X", "price": 1}]}]
    response = hook.menu("store-2", menu)
    assert response.status_code == 422 and "appears twice" in response.get_json()["detail"]


def test_webhooks_answer_503_when_no_secret_is_configured(app, hook, submitted):
    app.config["ONETABLET_WEBHOOK_SECRET"] = None
    assert hook.confirm(submitted).status_code == 503


def test_every_webhook_is_kept_raw_with_its_verdict(app, hook, submitted):
    hook.confirm(submitted, webhook_id="msg_1")
    hook.confirm(submitted, webhook_id="msg_1")
    hook.send("PATCH", f"/orders/{submitted}", b"nope")
    hook.reject(submitted)
    assert receipts(app)[-4:] == [
        ("order_confirmation", "applied", 200, None),
        ("order_confirmation", "duplicate", 200, None),
        ("order_confirmation", "refused", 400, "not_json"),
        ("order_confirmation", "refused", 409, "forbidden"),
    ]
    with app.app_context():
        raw = db.session.query(WebhookReceipt).filter_by(error="not_json").one()
        assert (raw.body, raw.order_id, raw.headers["webhook-id"]) == ("nope", submitted, raw.webhook_id)


def test_any_order_id_works_slashes_and_url_characters_included(app, api, hook, menu):
    """contract §3.3: `id` is any non-empty string the customer app chose."""
    from urllib.parse import quote

    from tests.helpers import order_body

    order_id = "shop/42 ?#%&é"
    assert api.create(order_body(order_id)).status_code == 201
    path = quote(order_id, safe="")
    assert hook.ready(path).status_code == 200
    order = api.get(path).get_json()
    assert (order["id"], order["state"]) == (order_id, "ready")
    from app.services import actions
    from app.models import OutboxMessage

    with app.app_context():
        actions.cancel(order_id, reason="OTHER", details=None, actor="staff:dana")
        call = db.session.query(OutboxMessage).filter_by(kind="cancel").one()
        assert call.path == f"/orders/{path}/cancel"  # one path segment at OneTablet


def test_a_fault_of_ours_is_a_500_that_changes_nothing_and_is_still_logged(app, hook, api, submitted, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(orders, "apply", broken)
    response = hook.confirm(submitted, webhook_id="msg_fault")
    assert response.status_code == 500 and response.get_json()["error"] == "internal_error"
    assert receipts(app)[-1] == ("order_confirmation", "failed", 500, "internal_error")
    assert api.order(submitted)["state"] == "submitted"
    monkeypatch.undo()  # fixed: OneTablet's retry (the same webhook-id) is applied, not a duplicate
    assert hook.confirm(submitted, webhook_id="msg_fault").get_json()["status"] == "applied"
    assert api.order(submitted)["state"] == "confirmed"


def test_a_bad_signature_is_logged_for_the_operator_without_the_secret(app, client, submitted, caplog):
    body = json.dumps({"merchant_supplied_id": "R1", "order_status": "success"})
    headers = signed_headers(body, secret="whsec_" + "d3Jvbmc=" * 4)  # another secret
    with caplog.at_level("WARNING"):
        assert client.patch(f"/onetablet/orders/{submitted}", data=body, headers=headers).status_code == 401
    assert any("signature check failed" in r.getMessage() for r in caplog.records)
    assert not any(app.config["ONETABLET_WEBHOOK_SECRET"] in r.getMessage() for r in caplog.records)

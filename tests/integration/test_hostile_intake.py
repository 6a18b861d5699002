"""Issue 14, as an attacker sends it (contract §3.6): /onetablet and /api answer a request that
fails authentication cheaply and keep nothing large of it; deep JSON is a 4xx, never a 500;
an order never rewrites its store's time zone."""
from __future__ import annotations

import json
import socket
import time

import pytest
from sqlalchemy import func, select

from app.infra import refusals
from app.extensions import db
from app.models import Order, Store, WebhookReceipt
from app.infra.validation import MAX_DEPTH
from tests.helpers import PLATFORM_KEY, nested_json, order_body, signed_headers, webhook_faults

MIB = 1024 * 1024
# What a refused record may hold at most: a truncated path, ids, a few cut headers, a detail.
SMALL_RECORD = 4096


def stored(app) -> dict:
    """The webhook log's rows, the bytes of bodies they keep, and their largest row's text."""
    with app.app_context():
        rows = db.session.execute(select(WebhookReceipt)).scalars().all()
        return {
            "rows": len(rows),
            "body_bytes": sum(len(r.body or "") for r in rows),
            "largest": max((len(r.path) + len(json.dumps(r.headers)) + len(r.detail or "") + len(r.order_id or "")
                            + len(r.webhook_id or "") for r in rows), default=0),
            "refused_without_body": sum(1 for r in rows if r.body is None and r.verdict == "refused"),
        }


def forged(raw: bytes) -> dict:
    """Headers that look signed (fresh timestamp, a v1 signature) but are not: the body must
    be read to find out."""
    headers = signed_headers(raw)
    headers["webhook-signature"] = "v1,bm90IHRoZSByaWdodCBzaWduYXR1cmUgYXQgYWxs"
    return headers


# --- 1. unauthenticated requests keep nothing large ------------------------------------

def test_unsigned_megabyte_webhooks_keep_no_body_and_at_most_a_small_record(app, client, submitted):
    before = stored(app)
    big = json.dumps({"merchant_supplied_id": "R", "pad": "x" * (MIB - 100)}).encode()
    assert len(big) < MIB
    for n in range(20):
        headers = forged(big) if n % 2 else {"Content-Type": "application/json"}  # forged, or no signature
        response = client.patch(f"/onetablet/orders/{submitted}", data=big, headers=headers)
        assert response.status_code == 401 and response.get_json()["error"] == "bad_signature"
    after = stored(app)
    assert after["body_bytes"] == before["body_bytes"]  # not one byte of the 20 MiB
    assert 1 <= after["rows"] - before["rows"] <= 20 and after["refused_without_body"] >= 1
    assert after["largest"] < SMALL_RECORD


def test_a_flood_of_refused_webhooks_keeps_one_record_a_second_saying_how_many_were_dropped(
        app, client, submitted, frozen_clock):
    for _ in range(30):
        assert client.patch(f"/onetablet/orders/{submitted}", data=b"{}").status_code == 401
    frozen_clock.advance(seconds=1)
    assert client.patch("/onetablet/stores/store-1/status", data=b"{}").status_code == 401
    with app.app_context():
        refused = db.session.execute(select(WebhookReceipt).where(WebhookReceipt.body.is_(None))
                                     .order_by(WebhookReceipt.id)).scalars().all()
        assert [r.kind for r in refused] == ["order_confirmation", "store_status"]
        assert "29 more refused since the last one kept; not kept" in refused[1].detail


def test_refused_webhook_records_never_outgrow_one_per_second_of_the_hour(app, client, submitted, frozen_clock):
    for _ in range(3):
        assert client.patch(f"/onetablet/orders/{submitted}", data=b"{}").status_code == 401
        frozen_clock.advance(seconds=refusals.SLOTS)  # the same second of the next hour
    with app.app_context():
        refused = db.session.execute(select(WebhookReceipt).where(WebhookReceipt.body.is_(None))).scalars().all()
    assert len(refused) == 1  # each replaced the one an hour older in its slot
    assert refused[0].received_at.timestamp() == pytest.approx((frozen_clock.now.timestamp() - refusals.SLOTS), abs=1)


def test_a_signed_webhook_is_still_kept_whole(app, hook, submitted):
    assert hook.confirm(submitted).status_code == 200
    with app.app_context():
        receipt = db.session.execute(select(WebhookReceipt).where(WebhookReceipt.kind == "order_confirmation")).scalar_one()
    assert json.loads(receipt.body)["order_status"] == "success" and receipt.body_size == len(receipt.body)


def test_the_webhook_log_says_why_a_refused_body_was_not_kept(app, client, submitted, staff):
    assert client.patch(f"/onetablet/orders/{submitted}", data=b'{"secret": "never shown"}',
                        headers=forged(b"{}")).status_code == 401
    with app.app_context():
        receipt = db.session.execute(select(WebhookReceipt).where(WebhookReceipt.status_code == 401)).scalar_one()
    staff.login()
    fragment = staff.get(f"/webhooks/{receipt.id}", htmx=True).get_data(as_text=True)
    assert "Body not kept:" in fragment and "the signature check failed" in fragment and "(25 bytes)" in fragment
    assert "never shown" not in fragment
    assert 'data-verdict="refused"' in staff.get("/webhooks").get_data(as_text=True)


def _send_head(server, head: str) -> bytes:
    """Send only a request's head (its body is promised by Content-Length but never sent);
    return the status line the server answers with, without waiting for the body."""
    with socket.create_connection(("127.0.0.1", server.server.server_port), timeout=5) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode())
        answer = b""
        while b"\r\n" not in answer:
            chunk = conn.recv(4096)  # a server waiting for the body would time out here
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0]


def _head(method, path, length, **headers) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             f"Content-Length: {length}", *(f"{k}: {v}" for k, v in headers.items())]
    return "\n".join(lines) + "\n\n"


def test_webhooks_refuse_before_reading_a_body_they_cannot_accept(app, live_server, submitted):
    path = f"/onetablet/orders/{submitted}"
    stale = forged(b"{}") | {"webhook-timestamp": str(int(time.time()) - 600)}
    fresh = {k: v for k, v in forged(b"{}").items() if k.startswith("webhook-")}
    assert b" 401 " in _send_head(live_server, _head("PATCH", path, 500_000))  # no signature headers
    assert b" 401 " in _send_head(live_server, _head("PATCH", path, 500_000, **{
        k: v for k, v in stale.items() if k.startswith("webhook-")}))  # outside the 5-minute window
    assert b" 413 " in _send_head(live_server, _head("PATCH", path, 50 * MIB, **fresh))  # over the limit
    with app.app_context():
        rows = db.session.execute(select(WebhookReceipt)).scalars().all()
    assert [r.kind for r in rows if r.body is not None] == ["store_menu"]  # the menu fixture's push
    assert {r.status_code for r in rows if r.body is None} <= {401, 413} and len(rows) >= 2


def test_the_api_refuses_a_wrong_key_before_reading_the_body_and_keeps_nothing(app, live_server, menu):
    assert b" 401 " in _send_head(live_server, _head("POST", "/api/orders", 500_000))
    assert b" 401 " in _send_head(live_server, _head("POST", "/api/orders", 500_000, Authorization="Bearer guess"))
    assert b" 413 " in _send_head(live_server, _head("POST", "/api/orders", 50 * MIB,
                                                     Authorization=f"Bearer {PLATFORM_KEY}"))
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 0
        assert db.session.execute(select(func.count()).select_from(WebhookReceipt)).scalar_one() == 1  # the menu


def test_the_api_logs_a_flood_of_wrong_keys_once_a_second(client, menu, caplog, frozen_clock):
    with caplog.at_level("WARNING"):
        for _ in range(25):
            response = client.post("/api/orders", data=b"{}", headers={"Authorization": "Bearer guess"})
            assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
        frozen_clock.advance(seconds=1)
        client.post("/api/orders", data=b"{}", headers={"Authorization": "Bearer guess"})
    lines = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(lines) == 2 and "24 more refused" in lines[1] and "guess" not in "".join(lines)


# --- 8. deep JSON is a 4xx -------------------------------------------------------------

DEPTHS = [MAX_DEPTH + 1, 325, 600, 980, 2_000, 100_000]


@pytest.mark.parametrize("depth", DEPTHS)
def test_deeply_nested_webhooks_are_4xx_and_change_nothing(app, client, api, submitted, depth):
    inner = nested_json(depth).decode()
    for path, raw in [(f"/onetablet/orders/{submitted}", nested_json(depth)),
                      (f"/onetablet/orders/{submitted}",
                       f'{{"merchant_supplied_id": "R", "order_status": "success", "deep": {inner}}}'.encode()),
                      ("/onetablet/stores/store-1/menu", f'{{"categories": {inner}}}'.encode())]:
        response = client.open(path, method="PUT" if path.endswith("menu") else "PATCH", data=raw,
                               headers=signed_headers(raw))
        assert response.status_code in (400, 422), (depth, response.status_code, response.get_data()[:200])
        assert response.get_json()["error"] in ("not_json", "invalid_payload")
    assert api.order(submitted)["state"] == "submitted"
    assert webhook_faults(app) == 0


@pytest.mark.parametrize("depth", DEPTHS)
def test_a_deeply_nested_order_is_4xx_and_stores_nothing(app, api, client, menu, depth):
    body = json.dumps(order_body("deep")).encode()
    for raw in (nested_json(depth, "array"), body[:-1] + b', "extras": ' + nested_json(depth) + b"}"):
        response = client.post("/api/orders", data=raw, headers=api.headers)
        assert response.status_code in (400, 422), (depth, response.status_code)
        assert response.get_json()["error"] in ("not_json", "invalid_order")
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Order)).scalar_one() == 0


def test_an_order_nested_to_the_limit_is_accepted_and_kept_whole(app, api, menu):
    deep = json.loads(nested_json(MAX_DEPTH - 1))  # inside the order object: MAX_DEPTH levels in all
    response = api.create(order_body("deep-ok", extras=deep))
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        assert db.session.get(Order, "deep-ok").payload["extras"] == deep
    one_more = api.create(order_body("deep-no", extras={"x": deep}))
    assert one_more.status_code == 422 and f"nested deeper than {MAX_DEPTH}" in one_more.get_json()["detail"]


def test_lone_surrogates_are_refused_not_a_database_error(app, api, hook, submitted):
    assert hook.cancel(submitted, reason="OTHER", details="\ud800").status_code == 422
    response = api.client.post("/api/orders", headers=api.headers,
                               data=json.dumps(order_body("sur", consumer={"first_name": "\udfff"})).encode())
    assert response.status_code == 422 and "lone surrogate" in response.get_json()["detail"]
    assert api.order(submitted)["state"] == "submitted"


# --- 11. an order never rewrites a store's time zone ---------------------------------------

def zone_of(app, ref: str) -> str:
    with app.app_context():
        return db.session.execute(select(Store.timezone).where(Store.merchant_supplied_id == ref)).scalar_one()


def test_an_order_never_overwrites_the_time_zone_an_admin_set(app, hook, api, staff):
    staff.login("admin")
    assert staff.post("/stores", {"merchant_supplied_id": "s-utc", "name": "Utc Diner", "timezone": "UTC"}
                      ).status_code in (200, 303)
    assert hook.menu("s-utc", [{"name": "A", "items": [{"merchant_supplied_id": "burger", "name": "B",
                                                         "price": 1200}, {"merchant_supplied_id": "fries",
                                                         "name": "F", "price": 450}]}]).status_code == 200
    body = order_body(store="s-utc")
    assert body["store"]["timezone"] == "America/New_York"
    assert api.create(body).status_code == 201
    assert zone_of(app, "s-utc") == "UTC"


def test_an_order_fills_in_a_time_zone_passline_does_not_know_yet_once(app, api, menu):
    first = order_body()
    first["store"]["timezone"] = "Europe/Berlin"
    assert api.create(first).status_code == 201
    assert zone_of(app, menu) == "Europe/Berlin"
    second = order_body()
    second["store"]["timezone"] = "Asia/Tokyo"
    assert api.create(second).status_code == 201
    assert zone_of(app, menu) == "Europe/Berlin"
    with app.app_context():  # the order itself still carries what the customer app sent
        assert db.session.get(Order, second["id"]).payload["store"]["timezone"] == "Asia/Tokyo"

"""Bodies sent chunked (no Content-Length) over a real HTTP server: the 1 MiB limit holds
for them too (contract §3.1: 413), where Werkzeug alone would cut them short unannounced."""
from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from tests.helpers import PLATFORM_KEY, order_body, signed_headers
from tests.integration.test_webhooks import receipts

MIB = 1024 * 1024


def send_chunked(server, method: str, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        chunks = (body[i:i + 64 * 1024] for i in range(0, len(body), 64 * 1024))
        connection.request(method, path, body=chunks, headers=headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def confirmation(padding: int) -> bytes:
    return json.dumps({"merchant_supplied_id": "R1", "order_status": "success", "pad": "x" * padding}).encode()


def test_a_chunked_webhook_over_one_mebibyte_is_413_and_changes_nothing(app, api, submitted, live_server):
    body = confirmation(2 * MIB)
    status, answer = send_chunked(live_server, "PATCH", f"/onetablet/orders/{submitted}", body,
                                  signed_headers(body))
    assert (status, answer["error"]) == (413, "too_large")
    assert api.order(submitted)["state"] == "submitted"
    assert receipts(app)[-1][1:3] == ("refused", 413)


def test_a_chunked_webhook_of_exactly_one_mebibyte_is_read_whole(api, submitted, live_server):
    body = confirmation(0)
    body = confirmation(MIB - len(body))
    assert len(body) == MIB
    status, answer = send_chunked(live_server, "PATCH", f"/onetablet/orders/{submitted}", body,
                                  signed_headers(body))
    assert (status, answer["status"]) == (200, "applied")
    assert api.order(submitted)["state"] == "confirmed"


def test_a_chunked_order_over_one_mebibyte_is_413(api, menu, live_server):
    order = order_body(instructions="x" * (2 * MIB))
    status, answer = send_chunked(live_server, "POST", "/api/orders", json.dumps(order).encode(),
                                  {"Authorization": f"Bearer {PLATFORM_KEY}", "Content-Type": "application/json"})
    assert (status, answer) == (413, {"error": "too_large", "detail": "the body is over the 1 MiB limit"})
    assert api.get(order["id"]).status_code == 404

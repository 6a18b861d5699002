from tests.conftest import order_body


def test_order_goes_from_submitted_to_ready_by_webhooks(api, hook, menu):
    body = order_body("o-1")
    created = api.create(body)
    assert created.status_code == 201, created.get_json()
    assert hook.confirm("o-1").status_code == 200
    assert hook.ready("o-1").status_code == 200
    order = api.order("o-1")
    assert order["state"] == "ready"
    assert [e["event"] for e in order["timeline"]] == ["submitted", "confirmed", "ready"]

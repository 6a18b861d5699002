"""Bad input at every webhook (and the order API): random bytes, wrong types, huge and deeply
nested JSON, NUL characters. Bodies are validly signed, so they reach the parser; each gets a
clear 4xx with the JSON error body {"error", "detail"} — never a 5xx."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.traffic import signed_headers
from tests.helpers import PLATFORM_KEY, WEBHOOK_SECRET, nested_json, order_body, webhook_faults

ORDER = "fuzz-order"
STORE = "store-1"
# Every webhook with a body that is valid for it, on an order / store that exists.
WEBHOOKS = {
    "confirmation": ("PATCH", f"/onetablet/orders/{ORDER}",
                     {"merchant_supplied_id": "R-1", "order_status": "success", "prep_time": 15}),
    "ready": ("PATCH", f"/onetablet/orders/{ORDER}/events/order_ready_for_pickup", {"merchant_supplied_id": "R-1"}),
    "cancellation": ("PATCH", f"/onetablet/orders/{ORDER}/cancellation", {"cancel_reason": "KITCHEN_BUSY"}),
    "store_status": ("PATCH", f"/onetablet/stores/{STORE}/status", {"is_active": False, "reason": "storm"}),
    "store_items": ("PATCH", f"/onetablet/stores/{STORE}/items",
                    {"items": [{"merchant_supplied_id": "fries", "is_available": False}]}),
    "store_menu": ("PUT", f"/onetablet/stores/{STORE}/menu",
                   {"categories": [{"name": "X", "items": [{"merchant_supplied_id": "x", "name": "X", "price": 1}]}]}),
}

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
FUZZ = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


@pytest.fixture
def targets(client, api, menu) -> dict:
    """name -> (send(raw bytes), a valid body): every webhook (signed) and POST /api/orders."""
    assert api.create(order_body(ORDER)).status_code == 201

    def webhook(method, path):
        return lambda raw: client.open(path, method=method, data=raw,
                                       headers=signed_headers(raw, secret=WEBHOOK_SECRET))

    found = {name: (webhook(method, path), valid) for name, (method, path, valid) in WEBHOOKS.items()}
    body = order_body("fuzz-new")
    # Only the fields Passline validates; the rest (tip, address...) is kept as sent.
    valid = {k: body[k] for k in ("id", "store", "consumer", "subtotal", "tax", "is_pickup", "categories")}
    found["api_order"] = (lambda raw: client.post("/api/orders", data=raw, headers={
        "Authorization": f"Bearer {PLATFORM_KEY}", "Content-Type": "application/json"}), valid)
    return found


def assert_clear_refusal(response, *statuses):
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:300])
    if statuses:
        assert response.status_code in statuses, response.get_json()
    body = response.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("detail"), str), body


def _answers_or_refuses_clearly(response):
    if response.status_code >= 300:
        assert_clear_refusal(response)


def test_random_bytes_are_refused_clearly(targets):
    for send, _valid in targets.values():
        @given(raw=st.binary(min_size=1, max_size=300))
        @FUZZ
        def check(raw):
            _answers_or_refuses_clearly(send(raw))

        check()


def test_any_json_value_is_answered_or_refused_clearly(targets):
    for send, _valid in targets.values():
        @given(value=JSON)
        @FUZZ
        def check(value):
            _answers_or_refuses_clearly(send(json.dumps(value).encode()))

        check()


# Strings an attacker likes: NUL, lone surrogates (json.dumps sends them escaped, \\ud800),
# control and astral characters, and a markup fragment.
ODD_TEXT = st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff", "\ud83d\ude00", "\u202e", "\x7f", "<b>", ""])
HOSTILE_LEAF = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                | st.sampled_from([10**30, -10**30, 2**63, -(2**63) - 1, 1e308, -0.0, 5e-324])
                | st.text(max_size=20) | ODD_TEXT)
HOSTILE = st.recursive(
    HOSTILE_LEAF,
    lambda children: (st.lists(children, max_size=40)
                      | st.dictionaries(st.text(max_size=10) | ODD_TEXT, children, max_size=8)),
    max_leaves=80,
)


@st.composite
def hostile_bodies(draw, valid: dict) -> bytes:
    """Raw bodies of every shape: a hostile value alone or in a valid body's field, nested up
    to 1500 deep, or bytes that are not UTF-8, nothing at all, a bare array."""
    value = draw(HOSTILE)
    if draw(st.booleans()):
        value = dict(valid, **{draw(st.sampled_from(sorted(valid))): value})
    raw = json.dumps(value).encode()
    shape = draw(st.sampled_from(["as is", "nested", "nested in a field", "not utf-8", "empty", "array"]))
    if shape == "nested":
        return nested_json(draw(st.integers(0, 1500)), draw(st.sampled_from(["object", "array"])), raw)
    if shape == "nested in a field":
        inner = nested_json(draw(st.integers(0, 1500)), draw(st.sampled_from(["object", "array"])), raw)
        return json.dumps(valid).encode()[:-1] + b', "deep": ' + inner + b"}"
    if shape == "not utf-8":
        return raw[:1] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xfe\xff"])) + raw[1:]
    if shape == "empty":
        return b""
    if shape == "array":
        return b"[" + raw + b"]"
    return raw


def test_any_shape_of_hostile_json_gets_an_answer_never_a_5xx(app, targets):
    """Signed (or with the right key), so every body reaches the parser and the checks."""
    for name, (send, valid) in targets.items():
        @given(raw=hostile_bodies(valid))
        @settings(max_examples=40, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(raw):
            _answers_or_refuses_clearly(send(raw))

        check()
    assert webhook_faults(app) == 0  # none was a fault of ours, even one answered before the check


def test_every_field_with_a_wrong_type_gets_422(targets):
    for (send, valid), (field, value) in ((t, f) for t in targets.values() for f in t[1].items()):
        digits = "12" if not isinstance(value, str) else 12  # "12" is no time, nor a name
        for wrong in ({"nested": value}, [value], digits, True):
            if wrong is None or (wrong is True and isinstance(value, bool)):
                continue
            bad = dict(valid, **{field: wrong})
            assert_clear_refusal(send(json.dumps(bad).encode()), 422)


def test_huge_and_deeply_nested_bodies_get_4xx(targets):
    deep = "x"
    for _ in range(200):
        deep = {"x": deep}
    for send, valid in targets.values():
        assert_clear_refusal(send(b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'), 413)
        assert_clear_refusal(send(json.dumps(dict(valid, pad=["x" * 100] * 11_000)).encode()), 413)
        assert_clear_refusal(send(b"[" * 100_000 + b"]" * 100_000), 400)
        assert_clear_refusal(send(b'{"a": ' * 50_000 + b"1" + b"}" * 50_000), 400)
        assert_clear_refusal(send(json.dumps(dict(valid, **{next(iter(valid)): deep})).encode()), 422)


def _with_nul(value):
    """`value` with a NUL character put into its first string, however deep."""
    if isinstance(value, str):
        return value + "\x00"
    if isinstance(value, dict):
        key = next(k for k, v in value.items() if isinstance(v, (str, dict, list)))
        return dict(value, **{key: _with_nul(value[key])})
    return [_with_nul(value[0]), *value[1:]]


def test_nul_characters_are_refused_not_a_database_error(targets):
    for send, valid in targets.values():
        assert_clear_refusal(send(b"\x00"), 400)
        assert_clear_refusal(send(json.dumps(_with_nul(valid)).encode()), 422)


def test_nul_characters_in_ids_in_the_path_are_unknown(client, api):
    for path in ("/onetablet/orders/a%00b", "/onetablet/orders/a%00b/cancellation", "/onetablet/stores/s%00/items"):
        raw = json.dumps(WEBHOOKS["cancellation"][2]).encode()
        response = client.patch(path, data=raw, headers=signed_headers(raw, secret=WEBHOOK_SECRET))
        assert_clear_refusal(response, 404, 422)
    assert_clear_refusal(api.get("a%00b"), 404)

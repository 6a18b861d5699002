"""Integers from the outside (path ids, form fields, query parameters) past what an id
column holds, negative, or not integers at all: a 4xx that changes nothing, never a 500
(contract §3.6). One rule for all of them: app/infra/ids.py."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.services import actions, accounts
from app.infra import ids
from app.extensions import db
from app.models import Courier, Order, OrderEvent, OutboxMessage, Refund, User, WebhookReceipt
from tests.helpers import order_body

pytestmark = pytest.mark.usefixtures("fast_passwords")

# Sent as an attacker types them: past 64 bits, just past the signed range, negative, zero.
NOT_IDS = [str(2**64), str(10**30), str(2**63), "-1", "0"]


@pytest.fixture
def world(app, hook, api, menu):
    """One of each thing an integer names: a courier carrying an order with a call in the
    outbox, a pending refund, a webhook in the log, a second account."""
    carried, rejected = order_body(), order_body()
    for body in (carried, rejected):
        assert api.create(body).status_code == 201
    hook.confirm(carried["id"])
    hook.reject(rejected["id"])  # opens a refund
    with app.app_context():
        courier = Courier(name="Mike Rivera", phone="+15559876543")
        db.session.add(courier)
        db.session.commit()
        actions.assign_courier(carried["id"], courier_id=courier.id, actor="staff:test")
        accounts.create_user("victim", role="dispatcher", password="long enough")
        db.session.commit()
        assert db.session.query(OutboxMessage).filter_by(order_id=carried["id"]).count()
        assert db.session.query(Refund).count() == 1 and db.session.query(WebhookReceipt).count()
        return {"order": carried["id"], "courier": courier.id}


def everything(app) -> tuple:
    """What any of these requests could change."""
    with app.app_context():
        rows = [sorted(db.session.execute(select(*columns)).all()) for columns in (
            (Order.id, Order.version, Order.state, Order.courier_id),
            (Courier.id, Courier.is_active),
            (Refund.id, Refund.status),
            (User.id, User.role, User.is_enabled, User.session_version),
            (OutboxMessage.id, OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.next_attempt_at),
        )]
        rows.append(db.session.execute(select(func.count()).select_from(OrderEvent)).scalar())
        db.session.remove()
        return tuple(rows)


@pytest.fixture
def admin(staff, world):
    return staff.login("admin")


PATHS = ["POST /couriers/{}/deactivate", "POST /couriers/{}/reactivate", "POST /refunds/{}/process",
         "POST /users/{}/role", "POST /users/{}/disable", "POST /users/{}/enable", "POST /users/{}/password",
         "GET /webhooks/{}"]


@pytest.mark.parametrize("value", NOT_IDS)
@pytest.mark.parametrize("route", PATHS)
def test_a_path_id_no_column_can_hold_is_a_404_that_changes_nothing(app, admin, route, value):
    method, path = route.split()
    before = everything(app)
    form = {"role": "admin", "password": "a new long one"}
    response = admin.post(path.format(value), form) if method == "POST" else admin.get(path.format(value))
    assert response.status_code == 404
    assert everything(app) == before


def test_the_id_converter_still_finds_a_real_row(app, admin, world):
    response = admin.post(f"/couriers/{world['courier']}/deactivate", {"confirm": "yes"})
    assert response.status_code == 303
    with app.app_context():
        assert not db.session.get(Courier, world["courier"]).is_active


# Each integer form field and query parameter, with what an honest request would send
# beside it; `{}` is where the value goes.
FIELDS = {
    "courier_id of a board action": ("POST", "/orders/{order}/courier", {"courier_id": "{}"}, 422),
    "message_id of a retry": ("POST", "/orders/{order}/retry", {"message_id": "{}"}, 422),
    "courier_id of a bulk action": ("POST", "/orders/bulk", {"action": "courier", "order_ids": "{order}",
                                                            "courier_id": "{}"}, 422),
    "before of the webhook log": ("GET", "/webhooks", {"before": "{}"}, 400),
}


def send(admin, world, field, value, htmx=False):
    method, path, params, _ = FIELDS[field]
    path = path.format(**world)
    params = {name: value if template == "{}" else template.format(**world) for name, template in params.items()}
    if method == "POST":
        return admin.post(path, params, htmx=htmx)
    return admin.get(path, htmx=htmx, query_string=params)


@pytest.mark.parametrize("value", NOT_IDS + ["٣", "²", "1.0", "1e3", " ", "\x00"])
@pytest.mark.parametrize("field", FIELDS)
def test_an_integer_field_no_column_can_hold_is_refused_and_changes_nothing(app, admin, world, field, value):
    before = everything(app)
    response = send(admin, world, field, value, htmx=True)
    assert response.status_code == FIELDS[field][3]
    assert everything(app) == before


def test_a_refused_courier_field_says_what_to_do(admin, world):
    page = send(admin, world, "courier_id of a board action", str(10**30), htmx=True).get_data(as_text=True)
    assert "Choose a courier." in page


def test_the_reports_courier_filter_names_an_unknown_courier(admin):
    page = admin.get("/reports", query_string={"courier": str(2**64)})
    assert page.status_code < 500 and "Unknown courier" in page.get_data(as_text=True)


def test_the_fleet_ignores_a_focus_it_cannot_find(admin):
    assert admin.get("/couriers", query_string={"at": str(10**30)}).status_code == 200


@pytest.mark.parametrize("raw, parsed", [("1", 1), (" 42 ", 42), (str(ids.MAX_ID), ids.MAX_ID),
                                         (str(ids.MAX_ID + 1), None), ("0", None), ("-1", None), ("+1", None),
                                         ("٣", None), ("²", None), ("1_000", None), ("", None), (None, None),
                                         ("0" * 20 + "1", None)])
def test_an_id_is_one_to_nineteen_ascii_digits_within_the_signed_64_bit_range(raw, parsed):
    assert ids.parse(raw) == parsed


# --- anything at all, anywhere an integer goes ------------------------------------------

ANYTHING = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", "1\x00", "٣", "²", "1e309", "-0", "+1", "0x10", "9" * 5000]),
)
# Every staff form field and query parameter that holds an integer, and every path id.
EVERYWHERE = [*FIELDS, "at of the fleet", "courier of the reports", *PATHS]


def send_anywhere(admin, world, place, value):
    if place in FIELDS:
        return send(admin, world, place, value, htmx=True)
    if place == "at of the fleet":
        return admin.get("/couriers", query_string={"at": value})
    if place == "courier of the reports":
        return admin.get("/reports", query_string={"courier": value})
    method, path = place.split()
    path = path.format(quote(value, safe=""))
    return admin.post(path, {"role": "x", "password": ""}) if method == "POST" else admin.get(path)


def test_no_value_in_any_integer_field_or_path_id_is_ever_a_5xx(app, admin, world):
    @settings(max_examples=250, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(place=st.sampled_from(EVERYWHERE), value=ANYTHING)
    def no_5xx(place, value):
        response = send_anywhere(admin, world, place, value)
        assert response.status_code < 500, (place, value, response.status_code)

    no_5xx()

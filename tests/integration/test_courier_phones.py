"""Couriers' phones, /c/<token> (contract §3.5): the link, the page, one tap per status through
the lifecycle, taps applied once, positions; and what a hostile client gets (§3.6)."""
import re
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Courier, DedupeKey, Order, OrderEvent, OutboxMessage
from app.services import actions, courier_links
from tests.helpers import order_body

pytestmark = pytest.mark.usefixtures("fast_passwords")


def new_courier(app, name="Ana Lopez", phone="+15552223333") -> int:
    with app.app_context():
        courier = Courier(name=name, phone=phone, is_active=True)
        db.session.add(courier)
        db.session.commit()
        return courier.id


def link(app, courier_id) -> str:
    with app.app_context():
        token = courier_links.make_link(db.session.get(Courier, courier_id))
        db.session.commit()
        return token


def carried_order(app, api, hook, courier_id, **extra) -> str:
    """A confirmed delivery order assigned to the courier (dasher_confirmed)."""
    body = order_body(delivery_short_code="K7Q2", delivery_instructions="Ring twice, 3rd floor", **extra)
    assert api.create(body).status_code == 201
    assert hook.confirm(body["id"]).status_code == 200
    with app.app_context():
        actions.assign_courier(body["id"], courier_id=courier_id, actor="staff:dana")
    return body["id"]


def tap(client, token, order_id, status, tap_id="0b6f5f8e-4d7a-4c51-9a57-0a3d2c1e9f10", **headers):
    return client.post(f"/c/{token}/tap", json={"order_id": order_id, "status": status, "tap": tap_id},
                       headers=headers)


def order_row(app, order_id):
    with app.app_context():
        return db.session.execute(select(Order.state, Order.courier_status, Order.version)
                                  .where(Order.id == order_id)).one()


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def mike(app, courier):
    return courier, link(app, courier)


def test_a_link_opens_the_couriers_page_with_their_open_orders(app, client, api, menu, hook, mike):
    courier_id, token = mike
    order_id = carried_order(app, api, hook, courier_id)
    page = client.get(f"/c/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "no-cache" in page.headers["Cache-Control"]
    assert f'data-order-id="{order_id}"' in html
    assert 'data-next-status="arriving_at_store"' in html
    assert 'href="tel:+15551234567"' in html and "John" in html and "Doe" not in html  # first name only
    assert "K7Q2" in html and "Ring twice, 3rd floor" in html and "3 items" in html
    assert "local time" in html


def test_the_page_shows_nobody_elses_orders(app, client, api, menu, hook, mike):
    courier_id, token = mike
    other = new_courier(app)
    theirs = carried_order(app, api, hook, other)
    html = client.get(f"/c/{token}").get_data(as_text=True)
    assert theirs not in html and "data-empty" in html


def test_a_tap_moves_the_order_audited_as_the_courier_and_tells_onetablet(app, client, api, menu, hook, mike):
    courier_id, token = mike
    order_id = carried_order(app, api, hook, courier_id)
    answer = tap(client, token, order_id, "arriving_at_store")
    assert answer.status_code == 200 and answer.get_json() == {"applied": True, "status": "arriving_at_store"}
    assert order_row(app, order_id)[:2] == ("confirmed", "arriving_at_store")
    with app.app_context():
        event = db.session.execute(select(OrderEvent).where(OrderEvent.order_id == order_id)
                                   .order_by(OrderEvent.id.desc())).scalars().first()
        assert (event.event, event.actor) == ("courier_status", f"courier:{courier_id}")
        told = db.session.execute(select(OutboxMessage).where(OutboxMessage.order_id == order_id,
                                                              OutboxMessage.kind == "delivery_status")
                                  .order_by(OutboxMessage.id.desc())).scalars().first()
        assert told.payload["dasher_status"] == "arriving_at_store"


def test_taps_walk_an_order_from_assigned_to_dropoff(app, client, api, menu, hook, mike):
    courier_id, token = mike
    order_id = carried_order(app, api, hook, courier_id)
    assert hook.ready(order_id).status_code == 200
    for n, status in enumerate(("arriving_at_store", "arrived_at_store", "dasher_out_for_delivery", "dropoff")):
        assert f'data-next-status="{status}"' in client.get(f"/c/{token}/orders").get_data(as_text=True)
        assert tap(client, token, order_id, status, tap_id=f"{n:08x}-0000-4000-8000-000000000000").status_code == 200
    assert order_row(app, order_id)[:2] == ("completed", "dropoff")
    assert "data-empty" in client.get(f"/c/{token}/orders").get_data(as_text=True)  # done: off the list


def test_a_tap_sent_twice_is_applied_once(app, client, api, menu, hook, mike):
    courier_id, token = mike
    order_id = carried_order(app, api, hook, courier_id)
    first = tap(client, token, order_id, "arriving_at_store")
    version = order_row(app, order_id)[2]
    again = tap(client, token, order_id, "arriving_at_store")
    assert first.get_json()["applied"] is True and again.status_code == 200 and again.get_json()["applied"] is False
    assert order_row(app, order_id)[2] == version
    assert count(app, OrderEvent, OrderEvent.order_id == order_id, OrderEvent.event == "courier_status") == 1
    assert count(app, OutboxMessage, OutboxMessage.order_id == order_id,
                 OutboxMessage.kind == "delivery_status") == 2  # assignment + this one tap


def test_the_same_tap_sent_twice_at_once_is_applied_once(app, api, menu, hook, mike):
    import threading

    courier_id, token = mike
    order_id = carried_order(app, api, hook, courier_id)
    start, answers = threading.Barrier(2), []

    def send():
        client = app.test_client()
        start.wait(timeout=5)
        answers.append(tap(client, token, order_id, "arriving_at_store"))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(a.get_json()["applied"] for a in answers) == [False, True]
    assert count(app, OrderEvent, OrderEvent.order_id == order_id, OrderEvent.event == "courier_status") == 1


def test_another_couriers_order_is_not_reachable(app, client, api, menu, hook, mike):
    courier_id, token = mike
    theirs = carried_order(app, api, hook, new_courier(app))
    before = order_row(app, theirs)
    answer = tap(client, token, theirs, "arriving_at_store")
    assert answer.status_code == 404 and answer.get_json()["error"] == "not_found"
    assert order_row(app, theirs) == before
    assert count(app, DedupeKey, DedupeKey.key.like("tap:%")) == 0


def test_a_status_the_rules_refuse_says_why_and_changes_nothing(app, client, api, menu, hook, mike):
    courier_id, token = mike
    body = order_body()
    assert api.create(body).status_code == 201  # submitted: the restaurant has not confirmed it
    with app.app_context():
        actions.assign_courier(body["id"], courier_id=courier_id, actor="staff:dana")
    page = client.get(f"/c/{token}").get_data(as_text=True)
    assert "Not yet: the restaurant has not confirmed the order yet" not in page  # the next step is allowed
    tap(client, token, body["id"], "arriving_at_store", tap_id="aaaaaaaa-0000")
    tap(client, token, body["id"], "arrived_at_store", tap_id="bbbbbbbb-0000")
    page = client.get(f"/c/{token}").get_data(as_text=True)
    assert "Not yet: the restaurant has not confirmed the order yet." in page
    answer = tap(client, token, body["id"], "dasher_out_for_delivery", tap_id="cccccccc-0000")
    assert answer.status_code == 409 and "not confirmed" in answer.get_json()["detail"]
    assert order_row(app, body["id"])[:2] == ("submitted", "arrived_at_store")
    again = tap(client, token, body["id"], "dasher_out_for_delivery", tap_id="cccccccc-0000")
    assert again.status_code == 409  # a re-sent refused tap is answered the same way


def test_a_new_link_revokes_the_old(app, client, mike):
    courier_id, old = mike
    new = link(app, courier_id)
    assert client.get(f"/c/{old}").status_code == 404
    assert client.get(f"/c/{new}").status_code == 200


def test_an_unknown_and_a_revoked_link_get_the_same_404(app, client, mike):
    courier_id, revoked = mike
    link(app, courier_id)
    unknown = client.get("/c/" + "A" * 43)
    gone = client.get(f"/c/{revoked}")
    assert unknown.status_code == gone.status_code == 404
    # The same page but for the CSRF token, whose signature carries the second it was made.
    token = re.compile(rb'<meta name="csrf-token" content="[^"]*">')
    assert token.sub(b"", unknown.get_data()) == token.sub(b"", gone.get_data())


def test_a_deactivated_couriers_link_is_404(app, client, staff, mike):
    courier_id, token = mike
    staff.login()
    assert staff.post(f"/couriers/{courier_id}/deactivate").status_code == 303
    assert client.get(f"/c/{token}").status_code == 404
    staff.post(f"/couriers/{courier_id}/reactivate")
    assert client.get(f"/c/{token}").status_code == 404  # coming back does not bring the old link back


def test_staff_make_a_link_shown_once_as_url_and_qr_code_and_can_revoke_it(app, client, staff, courier):
    staff.login()
    answer = staff.post(f"/couriers/{courier}/link")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    url = page.split('data-link-url', 1)[0].rsplit('value="', 1)[1].split('"', 1)[0]
    assert "/c/" in url and 'src="data:image/svg+xml' in page
    token = url.rsplit("/c/", 1)[1]
    assert client.get(f"/c/{token}").status_code == 200
    fleet = staff.get("/couriers").get_data(as_text=True)
    assert token not in fleet and 'data-phone-link="yes"' in fleet and "seen just now" in fleet
    assert staff.post(f"/couriers/{courier}/link/revoke").status_code == 303
    assert client.get(f"/c/{token}").status_code == 404


def test_the_link_is_kept_only_as_a_hash(app, mike):
    courier_id, token = mike
    with app.app_context():
        kept = db.session.get(Courier, courier_id).link_hash
    assert kept == courier_links.hash_token(token) and token not in kept


def test_the_poll_answers_304_until_the_list_changes(app, client, api, menu, hook, mike):
    courier_id, token = mike
    first = client.get(f"/c/{token}/orders")
    etag = first.headers["ETag"]
    assert client.get(f"/c/{token}/orders", headers={"If-None-Match": etag}).status_code == 304
    order_id = carried_order(app, api, hook, courier_id)  # a new assignment
    changed = client.get(f"/c/{token}/orders", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and f'data-order-id="{order_id}"' in changed.get_data(as_text=True)


def test_a_shared_position_shows_on_couriers_with_its_age(app, client, staff, mike):
    courier_id, token = mike
    answer = client.post(f"/c/{token}/position", json={"latitude": 40.7128, "longitude": -74.006})
    assert answer.status_code == 200
    with app.app_context():
        presence = courier_links.presence_of(db.session.get(Courier, courier_id))
        assert (presence.latitude, presence.longitude, presence.position_ago()) == (40.7128, -74.006, "just now")
    staff.login()
    assert "at 40.71280, -74.00600 (just now)" in staff.get("/couriers").get_data(as_text=True)


# --- hostile clients (contract §3.6): always a 4xx, never a 5xx, nothing changed ---------

ODD_TOKENS = ["x", "A" * 43, "A" * 65, "A" * 5000, "%00", "..", "%E2%80%AE", "%F0%9F%92%A9" * 20, "a b", "%FF"]


@pytest.mark.parametrize("token", ODD_TOKENS)
@pytest.mark.parametrize("method, path", [("GET", ""), ("GET", "/orders"), ("POST", "/tap"), ("POST", "/position")])
def test_a_wrong_long_or_odd_token_is_404(app, client, mike, token, method, path):
    answer = client.open(f"/c/{token}{path}", method=method, json={"latitude": 1, "longitude": 1})
    assert answer.status_code == 404


@pytest.mark.parametrize("raw, content_type, status", [
    (b"{", "application/json", 400),
    (b"[]", "application/json", 422),
    (b'{"order_id": "x", "status": "dropoff", "tap": "abcdefgh"}', "text/plain", 415),
    (b'{"a": ' + b"[" * 3000 + b"]" * 3000 + b"}", "application/json", 413),
    (b'{"a": "' + b"x" * 100_000 + b'"}', "application/json", 413),
    (json.dumps({"order_id": "x", "status": "teleported", "tap": "abcdefgh"}).encode(), "application/json", 422),
    (json.dumps({"order_id": ["x"], "status": "dropoff", "tap": "abcdefgh"}).encode(), "application/json", 422),
    (json.dumps({"order_id": "x" * 300, "status": "dropoff", "tap": "abcdefgh"}).encode(), "application/json", 422),
    (json.dumps({"order_id": "x", "status": "dropoff", "tap": "<script>"}).encode(), "application/json", 422),
    (json.dumps({"order_id": "x", "status": "dropoff"}).encode(), "application/json", 422),
    (b'{"order_id": "x", "status": "dropoff", "tap": NaN}', "application/json", 400),
])
def test_a_malformed_tap_is_a_4xx_and_changes_nothing(app, client, api, menu, hook, mike, raw, content_type, status):
    courier_id, token = mike
    order_id = carried_order(app, api, hook, courier_id)
    before = order_row(app, order_id)
    answer = client.post(f"/c/{token}/tap", data=raw, content_type=content_type)
    assert answer.status_code == status, answer.get_data(as_text=True)[:200]
    assert order_row(app, order_id) == before
    assert count(app, DedupeKey, DedupeKey.key.like("tap:%")) == 0


@pytest.mark.parametrize("body", [
    {"latitude": 1e308, "longitude": 0}, {"latitude": 91, "longitude": 0}, {"latitude": 0, "longitude": -180.5},
    {"latitude": 10 ** 400, "longitude": 0}, {"latitude": "40.7", "longitude": 0}, {"latitude": True, "longitude": 0},
    {"latitude": None, "longitude": None}, {},
])
def test_a_bogus_position_is_422_and_not_kept(app, client, mike, body):
    courier_id, token = mike
    answer = client.post(f"/c/{token}/position", data=json.dumps(body), content_type="application/json")
    assert answer.status_code == 422
    with app.app_context():
        assert db.session.get(Courier, courier_id).position_at is None


def test_a_tap_from_another_site_is_refused(app, client, api, menu, hook, mike):
    courier_id, token = mike
    order_id = carried_order(app, api, hook, courier_id)
    before = order_row(app, order_id)
    assert tap(client, token, order_id, "arriving_at_store", Origin="https://evil.example").status_code == 403
    assert tap(client, token, order_id, "arriving_at_store", **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert order_row(app, order_id) == before


@pytest.fixture
def app_config():
    """For this whole module: 3 unknown links per address (each test starts from zero)."""
    return {"COURIER_LINK_FAILURES_PER_ADDRESS": 3}


def test_wrong_links_are_throttled_by_address(app, client, mike):
    courier_id, token = mike
    for n in range(3):
        assert client.get(f"/c/guess-{n}").status_code == 404
    refused = client.get("/c/guess-4")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert client.post("/c/guess-5/tap", json={}).status_code == 429
    # Another address is not held back.
    assert client.get(f"/c/{token}", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 200


def test_tokens_never_reach_the_log(app, client, mike, caplog):
    courier_id, token = mike
    link(app, courier_id)  # `token` is now revoked
    with caplog.at_level("DEBUG"):
        client.get(f"/c/{token}")
    assert token not in caplog.text and courier_links.log_id(token) in caplog.text


# --- the command line (contract §6) ------------------------------------------------------

def test_courier_create_prints_the_id_and_courier_link_prints_a_working_link(app, client, runner):
    created = runner.invoke(args=["courier", "create", "Lee Park", "--phone", "+1 555 444 1212"])
    assert created.exit_code == 0, created.output
    courier_id = int(created.output.strip())
    with app.app_context():
        assert db.session.get(Courier, courier_id).phone == "+15554441212"  # kept as the form keeps it
    first = runner.invoke(args=["courier", "link", str(courier_id)])
    second = runner.invoke(args=["courier", "link", str(courier_id)])
    assert first.exit_code == second.exit_code == 0
    old, new = first.output.strip(), second.output.strip()
    assert new.startswith("http://127.0.0.1:5000/c/") and old != new
    assert client.get(new.split("5000", 1)[1]).status_code == 200
    assert client.get(old.split("5000", 1)[1]).status_code == 404


@pytest.mark.parametrize("args, message", [
    (["courier", "create", "Lee", "--phone", "12"], "Not a phone number"),  # the /couriers form's check
    (["courier", "create", "", "--phone", "+15554441212"], "Enter the courier's name"),
    (["courier", "link", "999"], "no courier 999"),
])
def test_the_courier_commands_refuse_what_is_wrong(app, runner, args, message):
    answer = runner.invoke(args=args)
    assert answer.exit_code != 0 and message in answer.output


def test_the_servers_access_log_shows_no_token(app, live_server, mike, caplog):
    import requests

    courier_id, token = mike
    with caplog.at_level("INFO", logger="werkzeug"):
        assert requests.get(f"{live_server.url}/c/{token}/orders", timeout=5).status_code == 200
        assert requests.get(f"{live_server.url}/c/sw.js", timeout=5).status_code == 200
    assert "GET /c/…/orders" in caplog.text and "GET /c/sw.js" in caplog.text and token not in caplog.text


def test_the_boards_courier_panel_shows_when_a_couriers_phone_last_checked_in(app, client, auth, mike):
    """Contract §3.5: the board's courier panel shows each courier's last seen time and how
    fresh their position is."""
    courier_id, token = mike
    assert client.get(f"/c/{token}").status_code == 200
    auth.login()
    panel = client.get("/board/couriers").get_data(as_text=True)
    entry = panel.split(f'data-courier-id="{courier_id}"', 1)[1].split("</li>", 1)[0]
    assert "phone seen just now" in entry

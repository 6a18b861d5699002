"""The board at `/`, the order detail and the staff actions, over real HTTP with a real
database (Flask test client), and the board's Socket.IO side."""
import re
import time
from datetime import datetime

import pytest

from app.infra import live
from app.services import overdue
from app.extensions import db, socketio
from app.models import Courier, OutboxMessage
from tests.helpers import order_body

pytestmark = pytest.mark.usefixtures("fast_passwords")
IN_PROCESS = [{"REDIS_URL": None}]  # Flask-SocketIO's test client refuses a message queue


@pytest.fixture
def dispatcher(staff):
    return staff.login("dispatcher")


def column_of(page: str, order_id: str):
    """The data-state of the column holding the card, read from the markup hooks."""
    position = page.index(f'data-order-id="{order_id}"')
    return re.findall(r'<section class="column[^"]*" data-state="([a-z_]+)"', page[:position])[-1]


def card_html(page: str, order_id: str) -> str:
    start = page.rindex("<article", 0, page.index(f'data-order-id="{order_id}"'))
    return page[start:page.index("</article>", start)]


def new_order(api, **kw) -> str:
    body = order_body(**kw)
    assert api.create(body).status_code == 201
    return body["id"]


# --- the board -------------------------------------------------------------------------

def test_the_board_needs_a_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert response.headers["Location"].endswith("/login?next=/")


def test_a_board_refresh_after_its_session_is_gone_sends_the_window_to_log_in(client):
    """Not the login form swapped into the board: the whole window goes, and comes back."""
    response = client.get("/?store=store-1", headers={"HX-Request": "true", "HX-Target": "board",
                                                      "HX-Current-URL": "http://127.0.0.1:5000/?store=store-1"})
    assert response.status_code == 401 and not response.get_data()
    assert response.headers["HX-Redirect"] == "/login?next=/?store%3Dstore-1"


def test_each_card_sits_in_its_states_column_and_terminal_ones_apart(dispatcher, client, api, hook, menu):
    submitted, confirmed, ready, rejected, cancelled = (new_order(api) for _ in range(5))
    hook.confirm(confirmed)
    hook.ready(ready)
    hook.reject(rejected)
    hook.cancel(cancelled)
    page = client.get("/").get_data(as_text=True)
    for state in ("submitted", "confirmed", "ready", "in_transit", "completed", "exceptions"):
        assert f'data-state="{state}"' in page
    assert [column_of(page, o) for o in (submitted, confirmed, ready, rejected, cancelled)] == [
        "submitted", "confirmed", "ready", "exceptions", "exceptions"]
    assert re.search(r'data-state="exceptions".*?<span class="count"[^>]*>2</span>', page, re.S)


def test_a_card_shows_what_a_dispatcher_scans_for(dispatcher, client, api, hook, menu, app, courier):
    order_id = new_order(api, consumer={"id": 7, "first_name": "Zoë", "last_name": "Park"})
    hook.confirm(order_id)
    from app.services import actions

    with app.app_context():
        actions.assign_courier(order_id, courier_id=courier, actor="staff:dana")
    card = card_html(client.get("/").get_data(as_text=True), order_id)
    for text in ("store-1", "Zoë", "3 items", "$25.89", "Our delivery", "Mike · ", "Assigned"):
        assert text in card, text
    assert re.search(r'<time class="age"[^>]*data-since="\d+"', card)


@pytest.mark.parametrize("app_config", IN_PROCESS, ids=["in-process"])
def test_an_overdue_card_says_which_limit_and_by_how_much(app, dispatcher, client, api, menu, frozen_clock):
    order_id = new_order(api)
    frozen_clock.advance(minutes=5, seconds=1)
    with app.app_context():
        overdue.tick()
    frozen_clock.advance(minutes=2)
    page = client.get("/").get_data(as_text=True)
    card = card_html(page, order_id)
    assert 'data-overdue="confirmation"' in card
    assert "Confirmation late +" in card and ">2m<" in card
    assert column_of(page, order_id) == "submitted"  # overdue stays in its column, flagged
    assert order_id in client.get("/board/attention").get_data(as_text=True)


def test_a_card_counts_down_to_its_limit_amber_in_its_last_fifth_and_red_past_it(
        app, dispatcher, client, api, menu, frozen_clock):
    order_id = new_order(api)  # 5 minutes to be confirmed; store in New York
    created = frozen_clock()

    def due():
        card = card_html(client.get("/").get_data(as_text=True), order_id)
        found = re.search(r'<span class="due due-(\w+)" data-due="(\d+)" data-due-from="(\d+)"\s+title="([^"]+)">'
                          r'Confirmation <span class="due-left">([^<]+)</span>', card)
        return found.groups() if found else None

    level, due_ms, from_ms, title, left = due()
    assert (level, left) == ("ok", "5m left") and int(due_ms) - int(from_ms) == 5 * 60_000
    assert int(due_ms) == int(created.timestamp() * 1000) + 5 * 60_000
    assert re.fullmatch(r"Confirmation due \d\d:\d\d store time", title)
    frozen_clock.advance(minutes=4)
    assert due()[0::4] == ("ok", "1m left")  # 60 s left is exactly the last fifth: not yet
    frozen_clock.advance(seconds=1)
    assert due()[0::4] == ("soon", "59s left")
    frozen_clock.advance(seconds=70)
    assert due()[0::4] == ("late", "11s late")  # past it, not yet flagged by the scheduler
    with app.app_context():
        overdue.tick()
    assert due() is None  # flagged: the overdue badge says how late instead
    assert "Confirmation late +" in card_html(client.get("/").get_data(as_text=True), order_id)


def test_a_card_shows_the_stores_branch_and_both_ages(app, dispatcher, client, api, menu, frozen_clock):
    from app.models import Store
    order_id = new_order(api)
    with app.app_context():
        db.session.execute(db.update(Store).values(name="Smash Bros. Burgers — Williamsburg"))
        db.session.commit()
    frozen_clock.advance(minutes=3)
    card = card_html(client.get("/").get_data(as_text=True), order_id)
    assert 'title="Smash Bros. Burgers — Williamsburg"' in card
    assert '<span class="store-brand">Smash Bros. Burgers</span><span class="store-branch">— Williamsburg</span>' in card
    assert re.search(r'class="age"[^>]*>3m</time>', card) and re.search(r'/ <time[^>]*data-since="\d+">3m</time>', card)


def test_a_search_without_a_match_says_so_once(dispatcher, client, api, menu):
    new_order(api)
    page = client.get("/?q=zzzz").get_data(as_text=True)
    assert page.count("data-no-match") == 1 and "No order matches “zzzz”." in page
    assert "data-no-match" not in client.get("/").get_data(as_text=True)  # an empty board without filters: no
    assert "No order matches these filters." in client.get("/?type=pickup&overdue=1").get_data(as_text=True)
    escaped = client.get("/?q=<b>x</b>").get_data(as_text=True)
    assert "“&lt;b&gt;x&lt;/b&gt;”" in escaped


def test_a_failed_call_shows_on_the_card_and_in_the_attention_strip(app, dispatcher, client, api, menu):
    order_id = new_order(api)
    with app.app_context():
        message = db.session.query(OutboxMessage).filter_by(order_id=order_id).one()
        message.status = "failed"
        db.session.commit()
    assert "1 call failed" in card_html(client.get("/").get_data(as_text=True), order_id)
    assert "1 with failed calls" in client.get("/board/attention").get_data(as_text=True)


def test_filters_and_search_narrow_the_board_and_are_kept_in_the_form(dispatcher, client, api, menu):
    pickup = new_order(api, pickup=True, consumer={"id": 1, "first_name": "Ada", "last_name": "Lovelace"})
    delivery = new_order(api, consumer={"id": 2, "first_name": "Alan", "last_name": "Turing"})
    by_type = client.get("/?type=pickup").get_data(as_text=True)
    assert pickup in by_type and delivery not in by_type
    assert '<option value="pickup" selected>' in by_type
    by_name = client.get("/?q=turing", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert delivery in by_name and pickup not in by_name
    assert 'data-filter-q="turing"' in by_name
    by_id = client.get(f"/?q={pickup[-6:].upper()}").get_data(as_text=True)
    assert pickup in by_id and delivery not in by_id
    assert pickup not in client.get("/?store=other-store").get_data(as_text=True)
    assert pickup not in client.get("/?overdue=1").get_data(as_text=True)


def test_search_ignores_case_and_accents_on_the_cards_and_in_the_filtered_board(dispatcher, client, api, menu):
    muller = new_order(api, consumer={"id": 1, "first_name": "Jürgen", "last_name": "Müller"})
    cafe = new_order(api, consumer={"id": 2, "first_name": "Zoë", "last_name": "Café"})
    for query, found, other in (("Muller", muller, cafe), ("MÜLLER", muller, cafe), ("cafe", cafe, muller),
                                ("zoe", cafe, muller)):
        page = client.get("/", query_string={"q": query}, headers={"HX-Request": "true"}).get_data(as_text=True)
        assert found in page and other not in page, query
    page = client.get("/", query_string={"q": "Müller"}).get_data(as_text=True)
    # Pushed cards are matched in the browser: their text and the query are folded alike.
    assert f'data-search="{muller} jurgen muller"' in card_html(page, muller)
    assert 'data-filter-q="muller"' in page and 'value="Müller"' in page


def test_htmx_gets_just_the_columns_and_caches_are_told(dispatcher, client, api, menu):
    new_order(api)
    full = client.get("/")
    fragment = client.get("/", headers={"HX-Request": "true"})
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    assert "<html" in full.get_data(as_text=True)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="board"')


def test_a_long_column_is_capped_and_shows_all_on_demand(dispatcher, client, api, menu, monkeypatch):
    monkeypatch.setattr("app.board.queries.CAP", 2)
    ids = [new_order(api) for _ in range(3)]
    page = client.get("/").get_data(as_text=True)
    assert sum(page.count(f'data-order-id="{i}"') for i in ids) == 2
    assert f'["{ids[2]}"]' in page  # the column names the card it left out
    assert "Show all 3" in page
    column = client.get("/board/columns/submitted", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert all(f'data-order-id="{i}"' in column for i in ids)


# --- the detail -------------------------------------------------------------------------

def test_the_detail_shows_items_customer_money_store_time_and_the_audit_trail(dispatcher, client, api, hook,
                                                                              menu):
    body = order_body(special_instructions="Ring twice")
    body["categories"][0]["items"][0]["special_instructions"] = "well done"
    assert api.create(body).status_code == 201
    hook.confirm(body["id"])
    detail = client.get(f"/orders/{body['id']}", headers={"HX-Request": "true"}).get_data(as_text=True)
    for text in ("Smash Burger", "+ No onions", "“well done”", "Ring twice", "John Doe", "+15551234567",
                 "$21.00", "$1.89", "$3.00", "$25.89", "America/New_York", "Local time",
                 "Customer app", "OneTablet", "Submitted → Confirmed"):
        assert text in detail, text
    assert "<html" not in detail
    assert "<html" in client.get(f"/orders/{body['id']}").get_data(as_text=True)


def timeline_of(detail: str) -> tuple[str, str]:
    """The audit trail's table as markup, and as the words it shows (tags and attributes gone)."""
    table = detail[detail.index('<table class="timeline">'):]
    table = table[:table.index("</table>")]
    return table, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table))


def test_the_audit_trail_reads_in_words_in_store_time_with_couriers_by_name(app, dispatcher, client, api, hook,
                                                                            menu, courier, frozen_clock):
    from zoneinfo import ZoneInfo

    from app.services import actions

    order_id = new_order(api)
    hook.confirm(order_id)
    frozen_clock.advance(minutes=27)  # preparation: 20 min without a prep_time, so 7 min late
    with app.app_context():
        overdue.tick()
        staff = f"staff:{dispatcher.username}"
        actions.assign_courier(order_id, courier_id=courier, actor=staff)
        actions.courier_status(order_id, status="dasher_out_for_delivery", actor=staff)
        actions.cancel(order_id, reason="KITCHEN_BUSY", details="slammed", actor=staff)
    detail = client.get(f"/orders/{order_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Times in store time, America/New_York" in detail
    markup, words = timeline_of(detail)

    for text in ("Order received", "Customer app", "Confirmed by the restaurant", "OneTablet",
                 "Submitted → Confirmed", "Flagged overdue: preparation, 7 min late", "Scheduler",
                 "Courier assigned: Mike Rivera", dispatcher.username, "Courier: Out for delivery",
                 "implied: Arriving at store, At store", "Ready → In transit", "Cancelled: Kitchen busy",
                 "slammed"):
        assert text in words, text
    leftovers = re.findall(r"\b[a-z]+_[a-z_]+\b|staff:|[A-Z]{2,}_[A-Z_]+", words)
    assert leftovers == [], leftovers  # no code a dispatcher would have to decode
    first = api.order(order_id)["timeline"][0]
    local = datetime.fromisoformat(first["at"]).astimezone(ZoneInfo("America/New_York"))
    assert f'<time datetime="{first["at"]}" title="{first["at"]}">{local:%b %d %H:%M:%S}</time>' in markup

    # The API keeps the codes (contract §3.3): the words are the page's alone.
    timeline = api.order(order_id)["timeline"]
    assert {"customer_app", "onetablet", "scheduler", staff} == {e["actor"] for e in timeline}
    assert [e["event"] for e in timeline if e["actor"] == staff] == [
        "courier_assigned", "ready", "courier_status", "cancelled"]
    assert timeline[3]["detail"]["courier_id"] == [None, courier]


def test_the_audit_trail_of_a_store_without_a_timezone_says_utc(app, dispatcher, client, submitted):
    from app.models import Store

    with app.app_context():
        db.session.execute(db.update(Store).values(timezone=""))
        db.session.commit()
    detail = client.get(f"/orders/{submitted}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Times in UTC (the store has no time zone)" in detail
    markup, _words = timeline_of(detail)
    at = re.search(r'<time datetime="([^"]+)"', markup).group(1)
    assert f">{datetime.fromisoformat(at):%b %d %H:%M:%S}</time>" in markup


def test_an_unknown_courier_keeps_its_id_in_the_audit_trail(app):
    from datetime import timezone

    from app.board import timeline
    from app.models import OrderEvent

    row = OrderEvent(at=datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc), actor="staff:dana",
                     event="courier_reassigned", from_state="ready", to_state="ready",
                     detail={"courier_id": [41, 42], "courier_status": ["arriving_at_store", "dasher_confirmed"]})
    with app.app_context():
        [line] = timeline.lines([row], timezone.utc)
    assert (line.who, line.what, line.states) == ("dana", "Courier reassigned: courier #41 → courier #42", "Ready")


def test_an_unknown_order_is_404(dispatcher, client):
    assert client.get("/orders/nope", headers={"HX-Request": "true"}).status_code == 404


# --- actions ----------------------------------------------------------------------------

def test_cancel_from_the_detail_goes_through_the_lifecycle_and_queues_onetablets_call(app, dispatcher, api,
                                                                                     submitted):
    response = dispatcher.post(f"/orders/{submitted}/cancel", {"reason": "KITCHEN_BUSY", "details": "slammed"},
                               htmx=True)
    assert response.status_code == 200
    assert "Cancelled; OneTablet will be told." in response.get_data(as_text=True)
    order = api.order(submitted)
    assert (order["state"], order["cancel_reason"], order["cancel_details"]) == ("cancelled", "KITCHEN_BUSY",
                                                                                 "slammed")
    assert order["timeline"][-1]["actor"] == f"staff:{dispatcher.username}"
    with app.app_context():
        assert db.session.query(OutboxMessage).filter_by(order_id=submitted, kind="cancel").count() == 1


def test_a_plain_post_is_answered_303(dispatcher, api, submitted):
    response = dispatcher.post(f"/orders/{submitted}/cancel", {"reason": "STORE_CLOSED"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/orders/{submitted}")
    assert api.order(submitted)["state"] == "cancelled"


@pytest.mark.parametrize("form, message", [
    ({"reason": ""}, "Choose a cancel reason: Item out of stock, Store closed, Kitchen busy, Other."),
    ({"reason": "BORED"}, "Choose a cancel reason"),
    ({"reason": "OTHER"}, "the reason “Other” needs details"),
])
def test_cancel_needs_a_reason_code(dispatcher, api, submitted, form, message):
    response = dispatcher.post(f"/orders/{submitted}/cancel", form, htmx=True)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert api.order(submitted)["state"] == "submitted"


def test_a_refused_cancel_keeps_what_the_dispatcher_chose(dispatcher, submitted):
    response = dispatcher.post(f"/orders/{submitted}/cancel", {"reason": "OTHER", "details": "   "}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and '<option value="OTHER" selected>' in html
    assert html.count(" selected>") == 1  # the override form, not refused, starts empty


def test_a_forbidden_action_says_why_inline_and_changes_nothing(dispatcher, api, hook, submitted):
    hook.cancel(submitted)
    before = api.order(submitted)
    response = dispatcher.post(f"/orders/{submitted}/picked-up", htmx=True)
    assert response.status_code == 409
    assert re.search(r'class="error" role="alert">a delivery order is completed by its courier',
                     response.get_data(as_text=True))
    after = api.order(submitted)
    assert (after["state"], after["version"]) == (before["state"], before["version"])
    assert after["timeline"][-1]["refused"] is True


def test_an_action_without_the_csrf_token_is_refused_and_changes_nothing(dispatcher, api, submitted):
    response = dispatcher.post(f"/orders/{submitted}/cancel", {"reason": "KITCHEN_BUSY"}, htmx=True, csrf=False)
    assert response.status_code == 400
    assert len(api.order(submitted)["timeline"]) == 1


def test_assign_then_post_the_next_courier_statuses(dispatcher, api, hook, submitted, courier):
    hook.confirm(submitted)
    assert dispatcher.post(f"/orders/{submitted}/courier", {"courier_id": courier}, htmx=True).status_code == 200
    detail = dispatcher.get(f"/orders/{submitted}", htmx=True).get_data(as_text=True)
    assert '<option value="arriving_at_store">Arriving at store</option>' in detail  # the next one first
    for status in ("arrived_at_store", "dasher_out_for_delivery"):
        assert dispatcher.post(f"/orders/{submitted}/courier-status", {"status": status}, htmx=True).status_code == 200
    order = api.order(submitted)
    assert (order["state"], order["courier_status"], order["courier"]["name"]) == (
        "in_transit", "dasher_out_for_delivery", "Mike Rivera")


def test_an_inactive_courier_cannot_be_assigned(app, dispatcher, api, hook, submitted, courier):
    with app.app_context():
        db.session.get(Courier, courier).is_active = False
        db.session.commit()
    response = dispatcher.post(f"/orders/{submitted}/courier", {"courier_id": courier}, htmx=True)
    assert response.status_code == 422 and "choose an active courier" in response.get_data(as_text=True)


def test_an_order_held_by_a_deactivated_courier_is_marked_listed_and_can_be_reassigned(
        app, staff, api, hook, submitted, courier):
    dispatcher = staff.login("dispatcher")
    with app.app_context():
        other = Courier(name="Ana Lopez", phone="+15552223333")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    hook.confirm(submitted)
    assert dispatcher.post(f"/orders/{submitted}/courier", {"courier_id": courier}, htmx=True).status_code == 200
    assert dispatcher.post(f"/couriers/{courier}/deactivate", {"confirm": "yes"}, htmx=True).status_code == 200

    board = dispatcher.get("/").get_data(as_text=True)
    assert "inactive — reassign" in card_html(board, submitted)
    strip = dispatcher.get("/board/attention", htmx=True).get_data(as_text=True)
    assert 'data-attention="inactive-courier"' in strip and submitted in strip and "Mike Rivera" in strip
    detail = dispatcher.get(f"/orders/{submitted}", htmx=True).get_data(as_text=True)
    assert "inactive — reassign" in detail
    assert f'<option value="{courier}" disabled selected>Mike Rivera (inactive)</option>' in detail
    assert f'<option value="{other_id}">Ana Lopez' in detail
    # Posting a status stays allowed: the courier may still be out delivering it.
    assert dispatcher.post(f"/orders/{submitted}/courier-status", {"status": "arriving_at_store"},
                           htmx=True).status_code == 200

    assert dispatcher.post(f"/orders/{submitted}/courier", {"courier_id": other_id}, htmx=True).status_code == 200
    assert "inactive — reassign" not in card_html(dispatcher.get("/").get_data(as_text=True), submitted)
    assert 'data-attention="inactive-courier"' not in dispatcher.get("/board/attention", htmx=True).get_data(as_text=True)


def test_a_pickup_order_is_marked_picked_up(dispatcher, api, hook, menu):
    order_id = new_order(api, pickup=True)
    hook.ready(order_id)
    assert dispatcher.post(f"/orders/{order_id}/picked-up", htmx=True).status_code == 200
    assert api.order(order_id)["state"] == "completed"


def test_only_a_manager_overrides_and_always_with_a_reason(staff, api, hook, submitted):
    hook.cancel(submitted)
    staff.login("dispatcher")
    refused = staff.post(f"/orders/{submitted}/override", {"to_state": "confirmed", "reason": "x"}, htmx=True)
    assert refused.status_code == 403 and "Only a manager" in refused.get_data(as_text=True)
    staff.login("manager")
    assert staff.post(f"/orders/{submitted}/override", {"to_state": "confirmed", "reason": ""},
                      htmx=True).status_code == 422
    done = staff.post(f"/orders/{submitted}/override", {"to_state": "confirmed", "reason": "restaurant called"},
                      htmx=True)
    assert done.status_code == 200 and "Override applied." in done.get_data(as_text=True)
    assert api.order(submitted)["state"] == "confirmed"


@pytest.mark.parametrize("last_status_code, new_key", [(503, False), (None, False), (422, True)])
def test_a_failed_call_is_retried_by_hand(app, dispatcher, api, submitted, last_status_code, new_key):
    with app.app_context():
        message = db.session.query(OutboxMessage).filter_by(order_id=submitted).one()
        message.status, message.last_status_code = "failed", last_status_code
        message_id, old_key = message.id, message.idempotency_key
        db.session.commit()
    detail = dispatcher.get(f"/orders/{submitted}", htmx=True).get_data(as_text=True)
    assert f'name="message_id" value="{message_id}"' in detail
    response = dispatcher.post(f"/orders/{submitted}/retry", {"message_id": message_id}, htmx=True)
    assert response.status_code == 200 and "Call queued again." in response.get_data(as_text=True)
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message.status == "pending"
        assert (message.idempotency_key != old_key) == new_key  # a refused call only: see test_outbox_delivery
    assert api.order(submitted)["timeline"][-1]["event"] == "call_retried"
    _markup, words = timeline_of(dispatcher.get(f"/orders/{submitted}", htmx=True).get_data(as_text=True))
    assert ("sent under a new Idempotency-Key" in words) == new_key


def test_acknowledging_stops_the_alarm_once(app, dispatcher, api, submitted):
    page = dispatcher.get("/").get_data(as_text=True)
    assert "data-alarm" in card_html(page, submitted)
    assert "Acknowledged." in dispatcher.post(f"/orders/{submitted}/acknowledge", htmx=True).get_data(as_text=True)
    again = dispatcher.post(f"/orders/{submitted}/acknowledge", htmx=True).get_data(as_text=True)
    assert "nothing changed" in again
    assert "data-alarm" not in card_html(dispatcher.get("/").get_data(as_text=True), submitted)
    events = [e["event"] for e in api.order(submitted)["timeline"]]
    assert events.count("acknowledged") == 1


# --- bulk -------------------------------------------------------------------------------

def test_bulk_assigns_one_courier_to_several_ready_orders_each_on_its_own(dispatcher, api, hook, menu, courier):
    ready = [new_order(api) for _ in range(2)]
    pickup = new_order(api, pickup=True)
    for order_id in ready + [pickup]:
        hook.ready(order_id)
    response = dispatcher.post("/orders/bulk", {"action": "courier", "courier_id": courier,
                                                "order_ids": ready + [pickup]}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "2 of 3 done." in body
    assert re.search(rf'class="refused" data-result-for="{pickup}".*?a pickup order has no courier', body, re.S)
    assert [api.order(o)["courier"]["name"] for o in ready] == ["Mike Rivera"] * 2


def test_bulk_cancels_several(dispatcher, api, menu):
    ids = [new_order(api) for _ in range(3)]
    response = dispatcher.post("/orders/bulk", {"action": "cancel", "reason": "STORE_CLOSED", "order_ids": ids},
                               htmx=True)
    assert "3 of 3 done." in response.get_data(as_text=True)
    assert {api.order(o)["state"] for o in ids} == {"cancelled"}


def test_a_bulk_form_missing_its_reason_is_refused_once_and_changes_nothing(dispatcher, api, menu):
    ids = [new_order(api) for _ in range(2)]
    response = dispatcher.post("/orders/bulk", {"action": "cancel", "reason": "", "order_ids": ids}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.count("Choose a cancel reason") == 1 and "data-result-for" not in body
    assert {api.order(o)["state"] for o in ids} == {"submitted"}
    other = dispatcher.post("/orders/bulk", {"action": "cancel", "reason": "OTHER", "order_ids": ids}, htmx=True)
    assert other.status_code == 422 and "“Other” needs details" in other.get_data(as_text=True)
    assert {api.order(o)["state"] for o in ids} == {"submitted"}


def test_bulk_needs_an_action_and_orders(dispatcher):
    assert dispatcher.post("/orders/bulk", {"action": "courier"}, htmx=True).status_code == 422


# --- live -------------------------------------------------------------------------------

@pytest.mark.parametrize("app_config", IN_PROCESS, ids=["in-process"])
def test_an_anonymous_socket_is_refused(app, client):
    assert not socketio.test_client(app, flask_test_client=client).is_connected()


@pytest.mark.parametrize("app_config", IN_PROCESS, ids=["in-process"])
def test_a_change_reaches_the_board_socket_as_a_rendered_card_with_its_version(app, client, auth, api, hook,
                                                                             submitted):
    auth.login()
    board = socketio.test_client(app, flask_test_client=client)
    assert board.is_connected()
    live.drain(app)
    board.get_received()
    hook.confirm(submitted)
    live.drain(app)
    [update] = [m["args"][0] for m in board.get_received() if m["name"] == "order"]
    assert (update["id"], update["version"], update["column"], update["state"]) == (
        submitted, 2, "confirmed", "confirmed")
    assert f'data-order-id="{submitted}"' in update["html"] and 'data-version="2"' in update["html"]
    board.disconnect()


@pytest.mark.parametrize("app_config", IN_PROCESS, ids=["in-process"])
def test_a_change_made_outside_a_request_still_pushes_its_card(app, client, auth, submitted, courier):
    from app.services import actions

    auth.login()
    board = socketio.test_client(app, flask_test_client=client)
    live.drain(app)
    board.get_received()
    with app.app_context():  # like the scheduler or the outbox worker: no request
        actions.cancel(submitted, reason="OTHER", details="test", actor="scheduler")
    live.drain(app)
    [update] = [m["args"][0] for m in board.get_received() if m["name"] == "order"]
    assert update["column"] == "exceptions" and f'href="/orders/{submitted}"' in update["html"]
    board.disconnect()


@pytest.mark.parametrize("app_config", IN_PROCESS, ids=["in-process"])
def test_a_board_socket_is_told_whether_anything_changed_since_its_page_was_rendered(app, client, auth, api,
                                                                                   menu):
    auth.login()
    new_order(api)  # its audit row is the newest change
    board = socketio.test_client(app, flask_test_client=client)
    now_ms = time.time() * 1000
    assert board.emit("board_changed_since", now_ms + 60_000, callback=True) is False  # a page rendered after it
    assert board.emit("board_changed_since", now_ms, callback=True) is True  # around it: may have missed it
    assert board.emit("board_changed_since", "soon", callback=True) is True  # cannot tell: reload
    board.disconnect()


def test_an_order_finished_long_ago_leaves_the_board(app, dispatcher, client, api, submitted, frozen_clock):
    dispatcher.post(f"/orders/{submitted}/cancel", {"reason": "KITCHEN_BUSY"}, htmx=True)
    assert submitted in client.get("/").get_data(as_text=True)
    frozen_clock.advance(hours=4, minutes=1)
    assert submitted not in client.get("/").get_data(as_text=True)


def test_apps_on_different_redis_databases_use_different_socketio_channels():
    """Redis pub/sub ignores the database number; the channel name must not."""
    from app import _socketio_channel

    assert _socketio_channel("redis://127.0.0.1:6379/2") != _socketio_channel("redis://127.0.0.1:6379/0")
    assert _socketio_channel("redis://127.0.0.1:6379") == _socketio_channel("redis://127.0.0.1:6379/0")


def test_any_order_id_works_in_links_and_actions(dispatcher, client, api, menu):
    new_order(api, order_id="odd/id ?#%&<x>")
    page = client.get("/").get_data(as_text=True)
    href = re.search(r'<a class="oid" href="([^"]+)"', card_html(page, "odd/id ?#%&amp;&lt;x&gt;")).group(1)
    assert href == "/orders/odd/id%20%3F%23%25%26%3Cx%3E"
    assert client.get(href, headers={"HX-Request": "true"}).status_code == 200
    assert dispatcher.post(href + "/cancel", {"reason": "KITCHEN_BUSY"}, htmx=True).status_code == 200
    assert '<span class="pill s-cancelled">' in client.get(href).get_data(as_text=True)


def test_board_pages_and_fragments_need_no_inline_script_or_style(app, dispatcher, client, api, hook, submitted,
                                                                 courier):
    hook.confirm(submitted)
    htmx = {"HX-Request": "true"}
    answers = [client.get("/"), client.get("/", headers=htmx), client.get(f"/orders/{submitted}"),
               client.get(f"/orders/{submitted}", headers=htmx), client.get("/board/attention", headers=htmx),
               client.get("/board/columns/confirmed", headers=htmx),
               dispatcher.post("/orders/bulk", {"action": "courier", "courier_id": courier,
                                                "order_ids": [submitted]}, htmx=True)]
    for answer in answers:
        page = answer.get_data(as_text=True)
        assert answer.status_code == 200 and "Content-Security-Policy" in answer.headers
        assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", page), answer.request.path

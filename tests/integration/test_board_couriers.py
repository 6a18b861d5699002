"""The board's courier decisions (contract §3.4): the courier panel's loads and idle times,
the suggested courier, a bulk assign that never takes an order from another courier unless
asked, what an inactive courier's order says, and only the allowed courier statuses offered."""
import re

import pytest

from app.board import fleet
from app.extensions import db
from app.models import Courier
from tests.helpers import add_couriers, order_body

pytestmark = pytest.mark.usefixtures("fast_passwords")

TO_DROPOFF = ("arriving_at_store", "arrived_at_store", "dasher_out_for_delivery", "dropoff")


@pytest.fixture
def dispatcher(staff):
    return staff.login("dispatcher")


def ready_order(api, hook) -> str:
    body = order_body()
    assert api.create(body).status_code == 201
    hook.confirm(body["id"])
    hook.ready(body["id"])
    return body["id"]


def assign(dispatcher, order_id, courier_id, *statuses):
    assert dispatcher.post(f"/orders/{order_id}/courier", {"courier_id": courier_id}, htmx=True).status_code == 200
    for status in statuses:
        assert dispatcher.post(f"/orders/{order_id}/courier-status", {"status": status}, htmx=True).status_code == 200


def test_the_suggestion_is_the_least_loaded_courier_then_the_longest_idle(
        app, dispatcher, api, hook, menu, frozen_clock):
    ids = add_couriers(app, "Ana Lopez", "Ben Cole", "Cleo Park", "Dee Stone")
    assign(dispatcher, ready_order(api, hook), ids["Ben"], *TO_DROPOFF)  # idle from now: 30 min later
    frozen_clock.advance(minutes=25)
    assign(dispatcher, ready_order(api, hook), ids["Cleo"], *TO_DROPOFF)  # idle 5 min
    carried = ready_order(api, hook)
    assign(dispatcher, carried, ids["Ana"], "arriving_at_store")  # carries one
    frozen_clock.advance(minutes=5)

    with app.app_context():
        ranked = fleet.loads()
        now = frozen_clock()
        assert [(e.courier.name, e.load, e.idle_minutes(now)) for e in ranked] == [
            ("Dee Stone", 0, None),  # never had an order: the longest idle of all
            ("Ben Cole", 0, 30), ("Cleo Park", 0, 5), ("Ana Lopez", 1, None)]
        assert [e.summary(now) for e in ranked] == [
            "0 open, no order yet", "0 open, idle 30 min", "0 open, idle 5 min", "1 open"]
        assert fleet.suggestion(ranked).courier.name == "Dee Stone"

    waiting = ready_order(api, hook)
    detail = dispatcher.get(f"/orders/{waiting}", htmx=True).get_data(as_text=True)
    assert "Suggested: Dee Stone (0 open, no order yet)" in detail
    assert re.search(rf'<option value="{ids["Dee"]}"\s+selected>Dee Stone \(0 open, no order yet\) — suggested', detail)
    board = dispatcher.get("/").get_data(as_text=True)
    assert "Suggested: Dee Stone" in board[board.index('id="bulk-form"'):]  # the bulk bar says it too


def test_the_courier_panel_lists_each_active_courier_with_load_orders_and_idle_time(
        app, dispatcher, api, hook, menu):
    ids = add_couriers(app, "Ana Lopez", "Ben Cole", "Old Timer")
    with app.app_context():
        db.session.get(Courier, ids["Old"]).is_active = False
        db.session.commit()
    first, second = ready_order(api, hook), ready_order(api, hook)
    assign(dispatcher, first, ids["Ana"], "arrived_at_store")
    assign(dispatcher, second, ids["Ana"])
    panel = dispatcher.get("/board/couriers", htmx=True).get_data(as_text=True)
    assert f'data-courier-id="{ids["Old"]}"' not in panel  # inactive: not in the panel
    ana = panel[panel.index(f'data-courier-id="{ids["Ana"]}"'):]
    ana = ana[:ana.index("</li>\n  <li") if "</li>\n  <li" in ana else len(ana)]
    assert 'data-load="2"' in ana and first in ana and second in ana
    assert "Ready · At store" in ana and "Ready · Assigned" in ana
    ben = panel[panel.index(f'data-courier-id="{ids["Ben"]}"'):]
    assert 'data-load="0"' in ben[:200] and "never had an order" in ben
    # The whole board carries the same panel.
    assert f'data-courier-id="{ids["Ana"]}" data-load="2"' in " ".join(dispatcher.get("/").get_data(as_text=True).split())


def test_with_no_active_courier_the_panel_says_so(dispatcher):
    panel = dispatcher.get("/board/couriers", htmx=True).get_data(as_text=True)
    assert "data-no-courier" in panel and "No active courier" in panel
    assert "No active courier" in dispatcher.get("/").get_data(as_text=True)


def test_a_bulk_assign_skips_an_order_another_courier_holds_and_names_them(app, dispatcher, api, hook, menu):
    ids = add_couriers(app, "Jonah Weiss", "Fatima Diallo")
    held, free = ready_order(api, hook), ready_order(api, hook)
    assign(dispatcher, held, ids["Jonah"], "arriving_at_store", "arrived_at_store")
    answer = dispatcher.post("/orders/bulk", {"action": "courier", "courier_id": ids["Fatima"],
                                              "order_ids": [held, free]}, htmx=True).get_data(as_text=True)
    assert re.search(rf'class="skipped" data-result-for="{held}".*?Skipped: held by Jonah, At store', answer, re.S)
    assert f'class="ok" data-result-for="{free}"' in answer
    assert "1 of 2 done. 1 skipped" in " ".join(answer.split())
    assert (api.order(held)["courier"]["name"], api.order(held)["courier_status"]) == ("Jonah Weiss", "arrived_at_store")
    assert api.order(free)["courier"]["name"] == "Fatima Diallo"
    # A skip is not a refusal by the rules: nothing is written in the audit trail.
    assert not [line for line in api.order(held)["timeline"] if "Fatima" in str(line)]


def test_a_bulk_assign_reassigns_held_orders_only_when_asked(app, dispatcher, api, hook, menu):
    ids = add_couriers(app, "Jonah Weiss", "Fatima Diallo")
    held = ready_order(api, hook)
    assign(dispatcher, held, ids["Jonah"], "arrived_at_store")
    answer = dispatcher.post("/orders/bulk", {"action": "courier", "courier_id": ids["Fatima"], "reassign": "1",
                                              "order_ids": [held]}, htmx=True).get_data(as_text=True)
    assert f'class="ok" data-result-for="{held}"' in answer
    assert (api.order(held)["courier"]["name"], api.order(held)["courier_status"]) == ("Fatima Diallo", "dasher_confirmed")


def test_an_inactive_courier_out_delivering_is_to_be_contacted_not_reassigned(app, dispatcher, api, hook, menu):
    ids = add_couriers(app, "Jonah Weiss", "Fatima Diallo")
    delivering, waiting = ready_order(api, hook), ready_order(api, hook)
    assign(dispatcher, delivering, ids["Jonah"], "arriving_at_store", "arrived_at_store", "dasher_out_for_delivery")
    assign(dispatcher, waiting, ids["Jonah"])
    assert dispatcher.post(f"/couriers/{ids['Jonah']}/deactivate", {"confirm": "yes"}, htmx=True).status_code == 200
    board = " ".join(dispatcher.get("/").get_data(as_text=True).split())
    card = board[board.index(f'data-order-id="{delivering}"'):]
    assert "inactive — delivering; contact them" in card[:card.index("</article>")]
    card = board[board.index(f'data-order-id="{waiting}"'):]
    assert "inactive — reassign" in card[:card.index("</article>")]
    detail = dispatcher.get(f"/orders/{delivering}", htmx=True).get_data(as_text=True)
    assert "inactive — delivering; contact them" in detail and "act-courier" not in detail.replace("act-courier-status", "")


def test_an_unconfirmed_order_is_not_offered_out_for_delivery(app, dispatcher, api, submitted):
    ids = add_couriers(app, "Jonah Weiss")
    assign(dispatcher, submitted, ids["Jonah"])
    detail = dispatcher.get(f"/orders/{submitted}", htmx=True).get_data(as_text=True)
    offered = re.findall(r'<option value="([a-z_]+)">', detail[detail.index('name="status"'):])
    assert offered[:2] == ["arriving_at_store", "arrived_at_store"]
    assert "dasher_out_for_delivery" not in offered and "dropoff" not in offered

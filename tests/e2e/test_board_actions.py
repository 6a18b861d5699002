"""Staff actions from the board in a real browser reach the other boards live, and the
fake OneTablet receives the matching calls from the outbox worker."""
import pytest

from app.extensions import db
from app.models import Courier
from app.onetablet.worker import Worker
from browser import (  # noqa: F401  (fixtures are used by name)
    PASSWORD, browser, card, logged_in, remote, staff_accounts, wait_card_in, wait_live,
)
from conftest import wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def couriers(app):
    with app.app_context():
        fleet = [Courier(name="Mike Rivera", phone="+15550000001"), Courier(name="Ana Lopez", phone="+15550000002")]
        db.session.add_all(fleet)
        db.session.commit()
        return {c.first_name: c.id for c in fleet}


@pytest.fixture
def worker(app, onetablet):
    """OneTablet (the simulator, no restaurants: it only answers the API) and a running
    outbox worker sending to it."""
    onetablet.start()
    running = Worker(app, senders=1, name="e2e-worker").start()
    yield running
    running.stop()


def open_detail(page, order_id):
    page.click(card(page, order_id) + " .card-main")
    page.wait_for_selector(f'#detail [data-detail-id="{order_id}"]')


def test_a_dispatcher_cancels_and_reassigns_the_other_board_sees_it_and_onetablet_is_told(
        app, live_server, remote, browser, staff_accounts, couriers, worker, onetablet):
    doomed, delivery = remote.create(), remote.create()
    remote.confirm(delivery)
    dana = logged_in(browser, live_server.url, "dana", PASSWORD)
    eli = logged_in(browser, live_server.url, "eli", PASSWORD)
    for page in (dana, eli):
        wait_live(page)
        wait_card_in(page, delivery, "confirmed")

    # Cancel, with a reason code, from the detail panel.
    open_detail(dana, doomed)
    dana.select_option("#detail .act-cancel select[name=reason]", "ITEM_OUT_OF_STOCK")
    dana.fill("#detail .act-cancel input[name=details]", "no more buns")
    dana.click("#detail .act-cancel button")
    dana.wait_for_selector("#detail .notice >> text=Cancelled")
    wait_card_in(eli, doomed, "exceptions")
    assert "Item out of stock" in eli.inner_text(card(eli, doomed))  # the reason in words

    # Assign Mike, then reassign to Ana.
    open_detail(dana, delivery)
    for name in ("Mike", "Ana"):
        dana.select_option("#detail .act-courier select[name=courier_id]", str(couriers[name]))
        dana.click("#detail .act-courier button")
        dana.wait_for_selector(f'#detail .notice >> text=Courier assigned')
        eli.wait_for_selector(card(eli, delivery, "confirmed") + f' .courier >> text={name}')
    assert dana.dialogs == eli.dialogs == [] and dana.errors == eli.errors == []

    cancels = wait_for(lambda: onetablet.calls_to(f"/orders/{doomed}/cancel"))
    assert cancels, "OneTablet got no cancel call"
    assert cancels[0].body["reason"] == "ITEM_OUT_OF_STOCK: no more buns"
    assert cancels[0].body["store"] == {"merchant_supplied_id": "store-1"}
    statuses = wait_for(lambda: len(onetablet.calls_to(f"/orders/{delivery}/delivery-status")) == 2
                        and onetablet.calls_to(f"/orders/{delivery}/delivery-status"))
    assert statuses, "OneTablet did not get both courier calls"
    assert [(c.body["dasher"]["first_name"], c.body["dasher_status"]) for c in statuses] == [
        ("Mike", "dasher_confirmed"), ("Ana", "dasher_confirmed")]


def test_bulk_assign_from_the_board_applies_to_each_selected_order(live_server, remote, browser, staff_accounts,
                                                                   couriers):
    first, second, pickup = remote.create(), remote.create(), remote.create(pickup=True)
    for order_id in (first, second, pickup):
        remote.ready(order_id)
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(page)
    for order_id in (first, second, pickup):
        page.check(card(page, order_id, "ready") + " .pick")
    assert page.inner_text("#bulk-count") == "3"
    page.select_option("#bulk-form select[name=courier_id]", str(couriers["Ana"]))
    page.click("#bulk-form button[value=courier]")
    page.wait_for_selector("#detail .bulk-result")
    assert "2 of 3 done." in page.inner_text("#detail")
    assert "a pickup order has no courier" in page.inner_text(f'#detail [data-result-for="{pickup}"]')
    for order_id in (first, second):
        page.wait_for_selector(card(page, order_id, "ready") + " .courier >> text=Ana")
    assert page.locator("#bulk-form").is_hidden()  # the selection is cleared


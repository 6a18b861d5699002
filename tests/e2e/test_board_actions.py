"""Staff actions from the board in a real browser reach the other boards live, and the
fake OneTablet receives the matching calls from the outbox worker."""
import pytest

from app.outbox.sender import Worker
from browser import (  # noqa: F401  (fixtures are used by name)
    PASSWORD, browser, card, logged_in, remote, staff_accounts, wait_card_in, wait_live,
)
from tests.helpers import add_couriers, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def couriers(app):
    return add_couriers(app, "Mike Rivera", "Ana Lopez")


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
    assert "Item out of stock" in eli.text_content(card(eli, doomed))  # the reason in words

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


def test_bulk_actions_keep_selected_the_orders_they_could_not_apply_to(live_server, remote, browser, staff_accounts,
                                                                      couriers):
    first, second, pickup = remote.create(), remote.create(), remote.create(pickup=True)
    for order_id in (first, second, pickup):
        remote.ready(order_id)
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(page)
    for order_id in (first, second, pickup):
        page.check(card(page, order_id, "ready") + " .pick")
    assert page.inner_text("#bulk-count") == "3"
    page.click(card(page, first, "ready") + " .card-main")  # an order is open in the panel
    wait_open(page, first)

    # A cancel without its reason: one error, nothing applied, the selection kept.
    page.click("#bulk-form button[value=cancel]")
    page.wait_for_selector("#detail .bulk-result .error")
    # The result took the panel's place: no card is marked open, the URL names none.
    assert page.locator(".card.is-open").count() == 0
    assert page.evaluate(URL_ORDER) is None
    assert page.inner_text("#detail .bulk-result .error").startswith("Choose a cancel reason")
    assert page.locator("#detail [data-result-for]").count() == 0
    assert page.inner_text("#bulk-count") == "3"

    page.select_option("#bulk-form select[name=courier_id]", str(couriers["Ana"]))
    page.click("#bulk-form button[value=courier]")
    page.wait_for_selector("#detail .bulk-result .results")
    assert "2 of 3 done." in page.inner_text("#detail")
    assert "a pickup order has no courier" in page.inner_text(f'#detail [data-result-for="{pickup}"]')
    for order_id in (first, second):
        page.wait_for_selector(card(page, order_id, "ready") + " .courier >> text=Ana")
    # Only the refused order stays selected, to be dealt with.
    assert page.inner_text("#bulk-count") == "1"
    assert page.is_checked(card(page, pickup) + " .pick")
    assert not page.is_checked(card(page, first) + " .pick") and not page.is_checked(card(page, second) + " .pick")
    for order_id in (first, second, pickup):
        assert page.locator(card(page, order_id, "ready")).count() == 1  # nothing was cancelled



SHOWN_ORDER = """() => { const panel = document.getElementById('detail');
    const inner = !panel.hidden && panel.querySelector('[data-detail-id]'); return inner ? inner.dataset.detailId : null; }"""
URL_ORDER = "() => new URLSearchParams(location.search).get('order')"


def wait_open(page, order_id):
    """Until the panel shows `order_id` (None: closed) and the URL names the same."""
    page.wait_for_function(f"id => ({SHOWN_ORDER})() === id && ({URL_ORDER})() === id", arg=order_id)


def test_the_open_order_is_kept_in_the_url_through_reloads_filters_and_history(live_server, remote, browser,
                                                                              staff_accounts):
    odd = remote.create(order_id="odd/id ?#%&<x> ü+1")  # any platform string: encoded in the URL
    plain = remote.create()
    page = logged_in(browser, live_server.url, "dana", PASSWORD, path="/?type=mx_fleet_delivery")
    wait_live(page)
    page.click(card(page, plain) + " .card-main")
    wait_open(page, plain)
    page.click(card(page, odd) + " .card-main")
    wait_open(page, odd)
    assert "type=mx_fleet_delivery" in page.url

    page.reload()  # the dispatcher's order is open again
    wait_live(page)
    wait_open(page, odd)
    # (waited for: the first connect may reload the columns, which mark the card on settle)
    page.wait_for_function("id => document.querySelector('.card.is-open')?.dataset.orderId === id", arg=odd)

    page.fill("#q", "ord")  # a filter change keeps the open order in the URL it pushes
    page.wait_for_url("**/?*q=ord*")
    wait_open(page, odd)
    assert "type=mx_fleet_delivery" in page.url

    page.click("#detail [data-close-detail]")
    wait_open(page, None)
    page.go_back()  # Back reopens what the close closed
    wait_open(page, odd)
    page.go_forward()
    wait_open(page, None)
    assert "q=ord" in page.url and "type=mx_fleet_delivery" in page.url
    assert page.dialogs == [] and page.errors == []

    page.goto(live_server.url + "/?order=no-such-order")  # nothing to show: it leaves the URL
    page.wait_for_function(f"() => ({URL_ORDER})() === null")
    assert "No order “no-such-order”." in page.text_content("#detail [data-missing-order]")  # said, in words

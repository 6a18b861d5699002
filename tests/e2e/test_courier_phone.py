"""A courier's phone in Chromium (contract §3.5): a 390 px page, one tap per status while a
dispatcher's board follows live, taps kept offline and applied once, the position shared."""
import os
import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Courier, Order, OrderEvent
from app.services import actions, courier_links
from browser import (  # noqa: F401  (fixtures are used by name)
    PASSWORD, TIMEOUT_MS, browser, logged_in, remote, staff_accounts, wait_live,
)
from tests.helpers import wait_for

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def phone_link(app, courier_id) -> str:
    with app.app_context():
        token = courier_links.make_link(db.session.get(Courier, courier_id))
        db.session.commit()
    return f"/c/{token}"


def assign(app, order_id, courier_id) -> None:
    with app.app_context():
        actions.assign_courier(order_id, courier_id=courier_id, actor="staff:dana")


def on_the_phone(browser, url, viewport=PHONE, **options):
    """The page in a phone's browser (a tablet's, with a wider viewport)."""
    context = browser.new_context(viewport=viewport, is_mobile=viewport == PHONE, has_touch=True, **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.goto(url)
    return page


def courier_state(app, order_id):
    with app.app_context():
        return db.session.execute(select(Order.state, Order.courier_status).where(Order.id == order_id)).one()


def status_events(app, order_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OrderEvent).where(
            OrderEvent.order_id == order_id, OrderEvent.event == "courier_status"))


def tap_next(page, order_id, status):
    page.click(f'[data-order-id="{order_id}"] [data-next-status="{status}"]')


def test_a_courier_walks_an_order_to_dropoff_while_the_board_follows_live(app, live_server, remote, browser,
                                                                        staff_accounts, courier):
    order_id = remote.create()
    remote.confirm(order_id)
    remote.ready(order_id)
    board = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(board)
    phone = on_the_phone(browser, live_server.url + phone_link(app, courier))
    assert phone.locator("[data-empty]").count() == 1
    assign(app, order_id, courier)
    phone.wait_for_selector(f'[data-order-id="{order_id}"] [data-next-status="arriving_at_store"]',
                            timeout=15_000)  # the page's poll (10 s) brings the new assignment

    for status, column in (("arriving_at_store", "ready"), ("arrived_at_store", "ready"),
                           ("dasher_out_for_delivery", "in_transit"), ("dropoff", "completed")):
        tap_next(phone, order_id, status)
        tapped = time.monotonic()
        board.wait_for_selector(f'section[data-state="{column}"] [data-order-id="{order_id}"] .cs-{status}',
                                timeout=max(1, int(1000 - (time.monotonic() - tapped) * 1000)))
        if status != "dropoff":
            wait_for(lambda: courier_state(app, order_id)[1] == status)
    phone.wait_for_selector("[data-empty]")
    assert courier_state(app, order_id) == ("completed", "dropoff")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone.errors == [] and board.errors == []


def test_a_tap_made_offline_arrives_once_when_back_online_even_sent_twice(app, live_server, remote, browser,
                                                                          courier):
    order_id = remote.create()
    remote.confirm(order_id)
    assign(app, order_id, courier)
    phone = on_the_phone(browser, live_server.url + phone_link(app, courier))
    phone.wait_for_selector(f'[data-order-id="{order_id}"] [data-next-status="arriving_at_store"]')

    phone.context.set_offline(True)
    tap_next(phone, order_id, "arriving_at_store")
    phone.wait_for_selector(f'[data-order-id="{order_id}"] [data-pending]:not([hidden])')
    assert "Waiting to send" in phone.inner_text(f'[data-order-id="{order_id}"]')
    phone.wait_for_selector('#net[data-net="offline"]')
    # The courier keeps going: the button is already on the next step.
    phone.wait_for_selector(f'[data-order-id="{order_id}"] [data-next-status="arrived_at_store"]')
    assert courier_state(app, order_id) == ("confirmed", "dasher_confirmed")
    # The phone sends this tap twice (as when an answer is lost on the way): the same id twice.
    phone.evaluate("""() => {
        const key = Object.keys(localStorage).find(k => k.startsWith('passline-taps:'));
        const taps = JSON.parse(localStorage.getItem(key));
        localStorage.setItem(key, JSON.stringify([taps[0], taps[0]]));
    }""")

    phone.context.set_offline(False)
    phone.wait_for_function("() => window.passlineCourier.queue().length === 0")
    phone.wait_for_selector(f'[data-order-id="{order_id}"] [data-pending][hidden]', state="attached")
    assert courier_state(app, order_id) == ("confirmed", "arriving_at_store")
    assert status_events(app, order_id) == 1
    # Offline, the browser reports each failed fetch; nothing else went wrong.
    assert [e for e in phone.errors if "ERR_INTERNET_DISCONNECTED" not in e] == []


def test_the_courier_page_does_not_scroll_sideways_at_390_px(app, live_server, remote, browser, courier):
    first = remote.create(delivery_short_code="K7Q2", delivery_address="41 Orchard St, Apt 3B, New York",
                          delivery_instructions="Ring twice, third floor")
    order_id = remote.create(order_id="ord-" + "x" * 120, delivery_instructions="Leave it with the doorman " * 6)
    for each in (first, order_id):
        remote.confirm(each)
        assign(app, each, courier)
    with app.app_context():
        actions.courier_status(first, status="arrived_at_store", actor=f"courier:{courier}")
    for width in (390, 1024):
        phone = on_the_phone(browser, live_server.url + phone_link(app, courier),
                             viewport={"width": width, "height": 844 if width == 390 else 768})
        phone.wait_for_selector(f'[data-order-id="{order_id}"]')
        assert phone.evaluate("document.documentElement.scrollWidth") <= width
        button = phone.locator(f'[data-order-id="{order_id}"] [data-next-status]').bounding_box()
        assert button["height"] >= 48 and button["x"] >= 0 and button["x"] + button["width"] <= width
        if os.environ.get("PASSLINE_SCREENSHOT_DIR"):
            phone.screenshot(path=os.path.join(os.environ["PASSLINE_SCREENSHOT_DIR"], f"courier-page-{width}.png"))


def test_a_courier_who_shares_their_location_shows_on_couriers(app, live_server, browser, staff_accounts, courier):
    phone = on_the_phone(browser, live_server.url + phone_link(app, courier), permissions=["geolocation"],
                         geolocation={"latitude": 40.7128, "longitude": -74.006})
    phone.click("#share-position")

    def position():
        with app.app_context():
            found = db.session.get(Courier, courier)
            return (found.latitude, found.longitude) if found.position_at else None

    wait_for(lambda: position() == (40.7128, -74.006))
    fleet = logged_in(browser, live_server.url, "dana", PASSWORD, path="/couriers")
    assert "40.71280, -74.00600" in fleet.inner_text(f'[data-courier-id="{courier}"]')
    assert phone.errors == []


def test_the_page_installs_and_opens_with_no_network_once_loaded(app, live_server, remote, browser, courier):
    order_id = remote.create()
    remote.confirm(order_id)
    assign(app, order_id, courier)
    url = live_server.url + phone_link(app, courier)
    phone = on_the_phone(browser, url)
    assert phone.evaluate("async () => (await navigator.serviceWorker.ready).scope") == live_server.url + "/c/"
    manifest = phone.evaluate("async () => (await fetch(document.querySelector('link[rel=manifest]').href)).json()")
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in manifest["icons"]}
    phone.reload()  # now under the service worker, which keeps the copy
    phone.wait_for_selector(f'[data-order-id="{order_id}"]')

    phone.context.set_offline(True)
    phone.reload()
    phone.wait_for_selector(f'[data-order-id="{order_id}"] [data-next-status="arriving_at_store"]')
    phone.wait_for_selector('#net[data-net="offline"]')

"""The board's courier decisions in a real browser (contract §3.4): a bulk assign that skips
orders another courier holds unless asked, a courier panel kept live across boards, calm
alarms (a burst is one chime and one notification), and screenshots of the panel
(PASSLINE_SCREENSHOT_DIR=<dir> keeps them)."""
import os
import random
import time

import pytest

from app.infra import clock
from app.services import actions
from bench.board import seed
from tests.helpers import add_couriers
from browser import (  # noqa: F401  (fixtures are used by name)
    ALARM_STUBS, PASSWORD, browser, card, logged_in, remote, staff_accounts, wait_card_in, wait_live,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def couriers(app):
    return add_couriers(app, "Jonah Weiss", "Fatima Diallo")


def ready(remote) -> str:
    order_id = remote.create()
    remote.confirm(order_id)
    remote.ready(order_id)
    return order_id


def test_bulk_assign_skips_an_order_another_courier_holds_says_so_and_reassigns_only_when_asked(
        app, live_server, remote, browser, staff_accounts, couriers):
    held, free = ready(remote), ready(remote)
    with app.app_context():
        actions.assign_courier(held, courier_id=couriers["Jonah"], actor="staff:1")
        actions.courier_status(held, status="arrived_at_store", actor="staff:1")
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    wait_live(page)
    for order_id in (held, free):
        page.check(card(page, order_id, "ready") + " .pick")
    page.select_option("#bulk-courier", str(couriers["Fatima"]))
    page.click("#bulk-form button[value=courier]")
    page.wait_for_selector("#detail .bulk-result .results")
    assert "Skipped: held by Jonah, At store" in page.inner_text(f'#detail [data-result-for="{held}"]')
    assert "1 skipped" in page.inner_text("#detail .bulk-result")
    page.wait_for_selector(card(page, free, "ready") + " .courier >> text=Fatima")
    assert "Jonah" in page.inner_text(card(page, held) + " .courier")
    assert page.inner_text("#bulk-count") == "1"  # the skipped one stays selected, to be reassigned on purpose

    page.check("#bulk-form input[name=reassign]")
    page.click("#bulk-form button[value=courier]")
    page.wait_for_selector(f'#detail .results li.ok[data-result-for="{held}"]')
    page.wait_for_selector(card(page, held, "ready") + " .courier >> text=Fatima")
    assert page.errors == [] and page.dialogs == []


def test_the_courier_panel_load_changes_live_on_a_second_board_within_a_second(
        app, live_server, remote, browser, staff_accounts, couriers):
    order_id = ready(remote)
    pages = [logged_in(browser, live_server.url, name, PASSWORD) for name in ("dana", "eli")]
    fatima = f'#couriers [data-courier-id="{couriers["Fatima"]}"]'
    for page in pages:
        wait_live(page)
        page.wait_for_selector(fatima + '[data-load="0"]')

    dana, eli = pages
    dana.click("#couriers-toggle")  # folded on one board: a pushed list leaves it folded
    dana.click(card(dana, order_id) + " .card-main")
    dana.select_option("#detail .act-courier select[name=courier_id]", str(couriers["Fatima"]))
    sent = time.monotonic()
    dana.click("#detail .act-courier button")
    eli.wait_for_selector(fatima + '[data-load="1"]', timeout=1000)
    assert time.monotonic() - sent < 1.0
    assert order_id in eli.inner_text(fatima)
    # The bulk bar offers the same live numbers, and the suggestion moved to the idle courier.
    eli.wait_for_function("id => [...document.querySelectorAll('#bulk-courier option')]"
                          ".some(o => o.value === String(id) && o.text.startsWith('Fatima Diallo (1 open)'))",
                          arg=couriers["Fatima"])
    assert eli.inner_text("#bulk-suggest").startswith("Suggested: Jonah Weiss (0 open")
    dana.wait_for_selector(fatima + '[data-load="1"]', state="attached")
    assert eli.is_visible(fatima) and not dana.is_visible(fatima)  # open stays open, folded stays folded
    for page in pages:
        assert page.errors == [] and page.dialogs == []


STUBS = ALARM_STUBS + "localStorage.setItem('passline.notify', 'on');"


def test_a_burst_of_ten_new_orders_gives_one_chime_and_one_notification(live_server, remote, browser,
                                                                       staff_accounts):
    page = logged_in(browser, live_server.url, "dana", PASSWORD, path="/login")
    page.add_init_script(STUBS)
    page.goto(live_server.url + "/")
    wait_live(page)
    assert page.inner_text("#toggle-notify") == "Notifications on"
    ids = [remote.create() for _ in range(10)]
    for order_id in ids:
        wait_card_in(page, order_id, "submitted")
    page.wait_for_function("() => window.passlineAlarms.last !== ''")  # the burst's alarm went off
    assert page.evaluate("window.passlineAlarms.last") == "10 new orders"  # all ten in one
    assert page.evaluate("[window.__plays, window.__notes]") == [1, ["10 new orders"]]
    assert page.evaluate("[window.passlineAlarms.chimes, window.passlineAlarms.notifications]") == [1, 1]


def test_a_kind_switched_off_stays_silent_and_is_remembered(live_server, remote, browser, staff_accounts):
    page = logged_in(browser, live_server.url, "dana", PASSWORD, path="/login")
    page.add_init_script(STUBS)
    page.goto(live_server.url + "/")
    wait_live(page)
    page.click(".alarm-kinds summary")
    page.click('[data-alarm-kind="new"]')
    page.reload()
    wait_live(page)
    assert page.get_attribute('[data-alarm-kind="new"]', "aria-pressed") == "false"
    assert page.get_attribute('[data-alarm-kind="overdue"]', "aria-pressed") == "true"
    first = remote.create()
    wait_card_in(page, first, "submitted")
    # Turned back on, the next new order rings: the first one, switched off, never joined it.
    page.click(".alarm-kinds summary")
    page.click('[data-alarm-kind="new"]')
    second = remote.create()
    wait_card_in(page, second, "submitted")
    page.wait_for_function("() => window.passlineAlarms.last !== ''")
    assert page.evaluate("window.__notes") == [f"New order {second}"]


@pytest.fixture
def shift(app):
    with app.app_context():
        return seed(36, now=clock.now(), rng=random.Random(7), finished=10, failed_calls=1, overdue_share=0.2)


@pytest.mark.parametrize("width", [1440, 1024, 390])
def test_the_board_with_its_courier_panel_fits_each_width(live_server, browser, staff_accounts, shift, width):
    page = logged_in(browser, live_server.url, "maya", PASSWORD)
    page.set_viewport_size({"width": width, "height": 900})
    page.reload()
    wait_live(page)
    assert page.locator("#couriers [data-courier-id]").count() > 0
    if width < 1400:  # folded by default where the columns need the room; a tap opens it
        assert page.get_attribute("#couriers-toggle", "aria-expanded") == "false"
        page.click("#couriers-toggle")
    page.wait_for_selector("#courier-list [data-courier-id]", state="visible")
    panel = page.locator("#couriers").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= width + 1  # the panel is on screen, whole
    if os.environ.get("PASSLINE_SCREENSHOT_DIR"):
        if page.is_visible("#sound-banner"):  # a dispatcher's first click lets the chime play
            page.click("#sound-unblock")
            page.wait_for_selector("#sound-banner", state="hidden")
        page.screenshot(path=os.path.join(os.environ["PASSLINE_SCREENSHOT_DIR"], f"board-panel-{width}.png"))
    assert page.errors == [] and page.dialogs == []

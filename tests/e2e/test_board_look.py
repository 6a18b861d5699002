"""The board with demo-like data, as a dispatcher sees and drives it: every column filled,
overdue and failed-call badges, the keyboard, and a screenshot to look at
(PASSLINE_SCREENSHOT_DIR=<dir> keeps it)."""
import os
import random
import shutil

import pytest

from app.infra import clock
from bench.board import seed
from browser import PASSWORD, browser, logged_in, remote, staff_accounts, wait_live  # noqa: F401  (fixtures by name)

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_orders(app):
    with app.app_context():
        return seed(48, now=clock.now(), rng=random.Random(11), finished=14, failed_calls=2, overdue_share=0.3)


def test_the_board_shows_a_shift_and_the_keyboard_drives_it(live_server, browser, staff_accounts, demo_orders,
                                                           tmp_path):
    page = logged_in(browser, live_server.url, "maya", PASSWORD)
    wait_live(page)
    for state in ("submitted", "confirmed", "ready", "in_transit", "completed", "exceptions"):
        assert page.locator(f'section[data-state="{state}"] [data-order-id]').count() > 0, state
    assert page.locator("[data-overdue] .b-overdue").count() > 0
    assert page.locator(".card .b-failed").count() == 2
    assert page.locator("#attention .att-item").count() > 0

    shot = tmp_path / "board.png"
    page.screenshot(path=str(shot))
    if os.environ.get("PASSLINE_SCREENSHOT_DIR"):
        shutil.copy(shot, os.path.join(os.environ["PASSLINE_SCREENSHOT_DIR"], "board.png"))

    page.keyboard.press("j")
    first = page.evaluate("document.activeElement.dataset.orderId")
    assert first == page.locator('section[data-state="submitted"] [data-order-id]').first.get_attribute(
        "data-order-id")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.dataset.orderId") == first
    page.keyboard.press("l")
    assert page.evaluate("document.activeElement.closest('section').dataset.state") == "confirmed"
    page.keyboard.press("x")
    assert page.locator("#bulk-form").is_visible()
    assert page.inner_text("#bulk-count") == "1"
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail [data-detail-id]")
    if os.environ.get("PASSLINE_SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["PASSLINE_SCREENSHOT_DIR"], "board-detail.png"))
    page.keyboard.press("Escape")
    assert page.locator("#detail").is_hidden()
    page.keyboard.press("c")  # cancel: the detail opens with its reason picked, ready for the keyboard
    page.wait_for_selector("#detail .act-cancel select[name=reason]:focus")
    page.keyboard.press("Escape")  # from the field: closes the detail, and nothing was cancelled
    assert page.locator("#detail").is_hidden()
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    assert page.errors == [] and page.dialogs == []


def test_the_order_panel_keeps_long_ids_and_names_inside_it(app, live_server, remote, browser, staff_accounts):
    """A 200-character order id and an 80-character courier name wrap or shorten: the panel
    never scrolls sideways, so its close and Cancel buttons stay in view."""
    from app.extensions import db
    from app.models import Courier

    with app.app_context():
        db.session.add(Courier(name="Courier " + "Longname" * 9, phone="+15550001111", is_active=True))
        db.session.commit()
    order_id = remote.create(order_id="order-" + "x" * 194)
    page = logged_in(browser, live_server.url, "maya", PASSWORD)
    wait_live(page)
    page.click(f'[data-order-id="{order_id}"] .card-main')
    page.wait_for_selector(f'#detail [data-detail-id="{order_id}"] .act-cancel button', state="visible")
    page.wait_for_function("() => !document.querySelector('.htmx-request')")  # its acknowledge is done
    width = page.evaluate("() => { const d = document.querySelector('#detail'); return [d.scrollWidth, d.clientWidth]; }")
    assert width[0] <= width[1], width
    for button in ("#detail .close", "#detail .act-cancel button"):
        box, panel = page.locator(button).bounding_box(), page.locator("#detail").bounding_box()
        assert box["x"] + box["width"] <= panel["x"] + panel["width"], button

"""Passline on a phone (390 px) and a tablet (1024 px): no staff page scrolls sideways, every
link of the top bar can be tapped behind its Menu button, and a dispatcher can open, cancel
and assign an order on a phone. And what a card and the board say: the countdown to the
current limit, an unknown order, a search without a match (SPEC §3.4)."""
import os
import re

import pytest

from app.extensions import db
from app.services import accounts
from browser import PASSWORD, TIMEOUT_MS, browser, card, logged_in, remote, staff_accounts, wait_live  # noqa: F401
from test_pages_layout import OVERFLOWING, shift  # noqa: F401  (a shift's data: the fixture by name)

pytestmark = pytest.mark.browser

PHONE, TABLET = {"width": 390, "height": 844}, {"width": 1024, "height": 768}
PAGES = ["/", "/couriers", "/stores", "/refunds", "/webhooks", "/users", "/reports", "/no-such-page"]


@pytest.fixture
def admin(app, fast_passwords):
    """ada, an admin: the top bar with every link."""
    with app.app_context():
        accounts.create_user("ada", role="admin", password=PASSWORD)
        db.session.commit()


def screenshot(page, name):
    if os.environ.get("PASSLINE_SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["PASSLINE_SCREENSHOT_DIR"], name + ".png"), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
def test_no_staff_page_scrolls_sideways_on_a_phone_or_a_tablet(app, live_server, browser, admin, shift, viewport):
    page = logged_in(browser, live_server.url, "ada", PASSWORD)
    page.set_viewport_size(viewport)
    an_order = page.get_attribute("[data-order-id]", "data-order-id")
    overflowing = {}
    for path in PAGES + [f"/?order={an_order}", f"/orders/{an_order}", "/orders/no-such-order"]:
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        if path.startswith("/?order"):
            page.wait_for_selector("#detail [data-detail-id]")
        if path == "/reports":
            page.wait_for_selector("canvas[data-drawn]")
        seen = page.evaluate(OVERFLOWING)
        if seen["scroll"] > seen["width"]:
            overflowing[path] = seen
        screenshot(page, f"{viewport['width']}px-{path.strip('/').replace('/', '-').replace('?', '-') or 'board'}")
    # And the login page, signed out.
    guest = browser.new_context(viewport=viewport).new_page()
    guest.goto(live_server.url + "/login")
    seen = guest.evaluate(OVERFLOWING)
    if seen["scroll"] > seen["width"]:
        overflowing["/login"] = seen
    assert overflowing == {}  # each page: its width, and the last elements past the window's edge
    assert all("404" in error for error in page.errors) and page.dialogs == []  # the two error pages' own


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["phone", "tablet"])
def test_every_link_of_the_top_bar_can_be_tapped_behind_the_menu_button(app, live_server, browser, admin, viewport):
    page = logged_in(browser, live_server.url, "ada", PASSWORD)
    page.set_viewport_size(viewport)
    links = page.eval_on_selector_all(".topbar .nav a", "links => links.map(a => a.getAttribute('href'))")
    assert links == ["/", "/couriers", "/stores", "/refunds", "/webhooks", "/reports", "/users"]
    for href in links:  # ending on /users: logging out of a live page also has its socket ask /session (a 401)
        assert not page.is_visible(f'.topbar .nav a[href="{href}"]')  # folded away until asked for
        page.click(".menu-button")
        assert page.get_attribute(".menu-button", "aria-expanded") == "true"
        page.click(f'.topbar .nav a[href="{href}"]')  # visible, in the window, not covered
        page.wait_for_url(live_server.url + href)
    page.click(".menu-button")
    page.click(".topbar .logout button")  # Log out is in the menu too
    page.wait_for_url(live_server.url + "/login")
    assert page.errors == []


def test_on_a_phone_the_board_shows_one_column_at_a_time_and_an_order_can_be_opened_cancelled_and_assigned(
        app, live_server, remote, browser, staff_accounts, courier):
    doomed, delivery = remote.create(), remote.create(fulfillment="mx_fleet_delivery")
    remote.confirm(delivery)
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    page.set_viewport_size(PHONE)
    wait_live(page)

    # One column at a time: Submitted first; the Confirmed tab (with its count) shows the other.
    assert page.is_visible(card(page, doomed)) and not page.is_visible(card(page, delivery))
    assert page.text_content('section[data-state="confirmed"] .count') == "1"
    page.click('section[data-state="confirmed"] .col-tab')
    assert page.is_visible(card(page, delivery)) and not page.is_visible(card(page, doomed))
    page.click('section[data-state="submitted"] .col-tab')

    # The detail is a full-screen sheet; cancel from it.
    page.click(card(page, doomed) + " .card-main")
    page.wait_for_selector(f'#detail [data-detail-id="{doomed}"]')
    sheet = page.locator("#detail").bounding_box()
    assert (sheet["x"], sheet["y"], sheet["width"], sheet["height"]) == (0, 0, 390, 844)
    # The button is on screen (read in the page: opening the order acknowledges it, and the
    # panel may be re-rendered with the new version meanwhile).
    page.wait_for_function("""() => {
        const r = document.querySelector('#detail .act-cancel button')?.getBoundingClientRect();
        return r && r.width > 0 && r.left >= 0 && r.right <= innerWidth && r.bottom <= innerHeight;
    }""", timeout=TIMEOUT_MS)
    page.select_option("#detail .act-cancel select[name=reason]", "KITCHEN_BUSY")
    page.click("#detail .act-cancel button")
    page.wait_for_selector("#detail .notice >> text=Cancelled")
    page.click("#detail [data-close-detail]")
    assert page.is_hidden("#detail")

    # Assign a courier to the confirmed delivery.
    page.click('section[data-state="confirmed"] .col-tab')
    page.click(card(page, delivery) + " .card-main")
    page.wait_for_selector(f'#detail [data-detail-id="{delivery}"]')
    page.select_option("#detail .act-courier select[name=courier_id]", str(courier))  # Mike Rivera
    page.click("#detail .act-courier button")
    page.wait_for_selector("#detail .notice >> text=Courier assigned")
    assert page.evaluate(OVERFLOWING)["scroll"] <= 390
    page.click("#detail [data-close-detail]")
    page.wait_for_selector(card(page, delivery) + " >> text=Mike")
    assert page.errors == []


def test_a_card_counts_down_to_its_limit_amber_near_it_and_red_past_it(app, live_server, remote, browser,
                                                                        staff_accounts):
    order_id = remote.create()  # submitted: 5 minutes to be confirmed (contract §2)
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    page.clock.install()  # the page's clock, from the next load on: the server's stays real
    page.goto(live_server.url + "/")
    chip = card(page, order_id) + " .due"
    page.wait_for_selector(chip + ".due-ok")
    assert re.fullmatch(r"Confirmation [45]m left", " ".join(page.text_content(chip).split()))

    # A board reload (its catch-up) may re-render the card from the server's real clock for a
    # moment: wait for colour and words together, as the page's ticking clock sets them.
    def shows(level, words):
        page.wait_for_function("""([selector, level, words]) => {
            const chip = document.querySelector(selector);
            return chip && chip.classList.contains('due-' + level) && new RegExp(words).test(chip.textContent);
        }""", arg=[chip, level, words], timeout=TIMEOUT_MS)

    page.clock.run_for("04:05")  # 55 s left: in the limit's last fifth
    shows("soon", r"\d+s left$")
    page.clock.run_for("01:10")  # past it
    shows("late", r"\d+s late$")


def test_an_unknown_order_and_a_search_without_a_match_are_said_plainly(app, live_server, remote, browser,
                                                                         staff_accounts):
    remote.create()
    page = logged_in(browser, live_server.url, "dana", PASSWORD, path="/?order=no-such-order")
    page.wait_for_selector("#detail [data-missing-order]")
    assert "No order “no-such-order”." in page.text_content("#detail [data-missing-order]")
    assert page.is_hidden("#toast")  # no "The server answered 404"
    assert "order=" not in page.url

    page.goto(live_server.url + "/?q=zzzz-nobody")
    page.wait_for_selector("[data-no-match]")
    assert page.locator("[data-no-match]").count() == 1
    assert "No order matches “zzzz-nobody”." in page.text_content("[data-no-match]")
    afters = page.eval_on_selector_all("#board .cards", "lists => lists.map(l => getComputedStyle(l, '::after').content)")
    assert afters == ["none"] * 6  # no six "Nothing here"
    assert all("404" in error for error in page.errors)  # only the 404 itself, which the browser logs


# The search box's placeholder, as wide as its font draws it, fits inside the box (nothing cut off).
PLACEHOLDER_FITS = """() => {
    const q = document.querySelector('#q'), style = getComputedStyle(q);
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = style.font;
    const room = q.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return ctx.measureText(q.placeholder).width <= room;
}"""


def test_on_a_phone_the_toolbar_is_one_row_its_filters_and_alarms_folded_and_the_first_card_near_the_top(
        app, live_server, remote, browser, staff_accounts):
    order_id = remote.create()  # submitted: the tab a phone shows first
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    page.set_viewport_size(PHONE)
    wait_live(page)
    filters, alarms = 'button[aria-controls="filter-fields"]', 'button[aria-controls="alarm-switches"]'

    # One row: the search, Filters and Alarms; the rest folded away.
    assert page.locator("#filters").bounding_box()["height"] < 56
    assert all(page.is_visible(s) for s in ("#q", filters, alarms))
    assert page.is_hidden("#filters select[name=store]") and page.is_hidden("#toggle-sound")
    assert page.evaluate(PLACEHOLDER_FITS)
    # The first card, below the top bar, the banner of a browser that blocks sound, the
    # toolbar, the alarms strip, the courier panel's bar and two rows of column tabs, is
    # in the upper part of the screen (with the four-row toolbar it was about 450 px down).
    top = page.locator(card(page, order_id)).bounding_box()["y"]
    assert top < 350

    # Filters opens from the keyboard; a filter that is set shows on the folded button.
    page.focus(filters)
    page.keyboard.press("Enter")
    assert page.get_attribute(filters, "aria-expanded") == "true"
    page.select_option("#filters select[name=type]", "pickup")
    page.wait_for_selector("[data-no-match]")  # a delivery order: none is a pickup
    assert page.inner_text(filters).startswith("Filters (1)")
    assert page.evaluate(OVERFLOWING)["scroll"] <= 390
    page.focus("#filters select[name=type]")
    page.keyboard.press("Escape")  # closes the group, the focus back on its button
    assert page.is_hidden("#filters select[name=type]") and page.get_attribute(filters, "aria-expanded") == "false"
    assert page.evaluate("document.activeElement.getAttribute('aria-controls')") == "filter-fields"

    # Alarms opens the sound and notification switches and which alarms ring.
    page.click(alarms)
    page.click("#toggle-sound")
    assert page.inner_text("#toggle-sound") == "Sound off"
    page.click(".alarm-kinds summary")
    assert page.is_visible('[data-alarm-kind="overdue"]')
    assert page.evaluate(OVERFLOWING)["scroll"] <= 390
    assert page.errors == []


def test_on_a_tablet_the_toolbar_is_one_row_with_every_control_in_it(app, live_server, browser, staff_accounts):
    page = logged_in(browser, live_server.url, "dana", PASSWORD)
    page.set_viewport_size(TABLET)
    wait_live(page)
    assert page.locator("#filters").bounding_box()["height"] < 56
    assert page.is_hidden('button[aria-controls="filter-fields"]') and page.is_hidden('button[aria-controls="alarm-switches"]')
    for control in ("#q", "#filters select[name=store]", "#filters select[name=type]", "#filters [name=overdue]",
                    "#filters .clear", "#toggle-sound", "#toggle-notify", ".alarm-kinds summary", "#help-open"):
        assert page.is_visible(control), control
    assert page.evaluate(PLACEHOLDER_FITS)

"""Alarms on the board: a sound and a notification for a new or newly overdue order, each
with an off switch that is remembered; an alarm nobody has looked at repeats until someone
opens or acknowledges the order; a plain banner while the browser blocks sound."""
import pytest

from app.services import overdue
from browser import (  # noqa: F401  (fixtures are used by name)
    ALARM_STUBS, PASSWORD, browser, browser_blocking_sound, card, logged_in, remote, staff_accounts, wait_card_in,
    wait_live,
)

pytestmark = pytest.mark.browser

STUBS = ALARM_STUBS + """
window.__repeats = 0;  // runs of the alarm-repeat timer (every 300 ms here): a silence is waited for by them
const setIntervalReally = window.setInterval;
window.setInterval = (fn, ms) => setIntervalReally(ms === 300 ? () => { fn(); window.__repeats += 1; } : fn, ms);
"""


@pytest.fixture
def app_config():
    return {"BOARD_ALARM_REPEAT_SECONDS": 0.3}  # the 300 ms of STUBS


def board_with_stubs(browser, live_server):
    page = logged_in(browser, live_server.url, "dana", PASSWORD, path="/login")
    page.add_init_script(STUBS)
    page.goto(live_server.url + "/")
    wait_live(page)
    return page


def wait_repeats(page, n: int) -> None:
    """Until the alarm-repeat timer has run `n` more times."""
    page.wait_for_function("n => window.__repeats >= n", arg=page.evaluate("window.__repeats") + n)


def test_a_new_order_rings_and_notifies_and_repeats_until_acknowledged(live_server, remote, browser,
                                                                      staff_accounts):
    page = board_with_stubs(browser, live_server)
    page.click("#toggle-notify")
    assert page.inner_text("#toggle-notify") == "Notifications on"
    order_id = remote.create()
    wait_card_in(page, order_id, "submitted")
    page.wait_for_function("() => window.__notes.length === 1")
    assert page.evaluate("window.__notes") == [f"New order {order_id}"]
    page.wait_for_function("() => window.__plays >= 3")  # the alarm repeats

    page.focus(card(page, order_id))
    page.keyboard.press("a")  # acknowledge
    page.wait_for_selector(card(page, order_id, "submitted") + ":not([data-alarm])")
    plays = page.evaluate("window.__plays")
    wait_repeats(page, 3)  # none may ring now
    assert page.evaluate("window.__plays") == plays


def test_a_newly_overdue_order_rings_again(app, live_server, remote, browser, staff_accounts, frozen_clock):
    order_id = remote.create()
    page = board_with_stubs(browser, live_server)
    page.click("#toggle-notify")
    frozen_clock.advance(minutes=5, seconds=1)
    with app.app_context():
        overdue.tick()
    page.wait_for_selector(card(page, order_id, "submitted") + "[data-overdue]")
    page.wait_for_function("() => window.__notes.length === 1")
    assert page.evaluate("window.__notes") == [f"Overdue {order_id}"]


def test_the_off_switches_silence_alarms_and_are_remembered(live_server, remote, browser, staff_accounts):
    page = board_with_stubs(browser, live_server)
    page.click("#toggle-sound")
    assert page.inner_text("#toggle-sound") == "Sound off"
    page.reload()
    wait_live(page)
    assert page.inner_text("#toggle-sound") == "Sound off"
    assert page.inner_text("#toggle-notify") == "Notifications off"
    order_id = remote.create()
    wait_card_in(page, order_id, "submitted")  # its "new order" alarm has been raised
    wait_repeats(page, 3)  # and would have been repeated
    assert page.evaluate("[window.__plays, window.__notes.length]") == [0, 0]


def test_the_board_says_when_the_browser_blocks_sound_until_a_click(live_server, browser_blocking_sound,
                                                                   staff_accounts):
    login = logged_in(browser_blocking_sound, live_server.url, "dana", PASSWORD)
    page = login.context.new_page()  # a new tab, not yet clicked in: the board opened next morning
    page.goto(live_server.url + "/")
    wait_live(page)
    page.wait_for_selector("#sound-banner", state="visible")
    assert "blocking sound" in page.inner_text("#sound-banner")
    page.click("#sound-unblock")
    page.wait_for_selector("#sound-banner", state="hidden")

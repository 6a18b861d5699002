"""A live page whose session ends (account disabled, password changed) goes to the login
page saying why, instead of showing "Reconnecting…" forever (static/js/app.js)."""
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from app.services import accounts
from app.board import sockets
from app.extensions import db
from browser import PASSWORD, browser, logged_in, staff_accounts, wait_live  # noqa: F401

pytestmark = pytest.mark.browser


def _end(app, change):
    with app.app_context():
        change(accounts.find("dana"))
        db.session.commit()
    sockets.sweep(app)  # what the request that changed it does (other processes: their sweep)


@pytest.mark.parametrize("path", ["/stores", "/"], ids=["stores", "board"])
@pytest.mark.parametrize("change, says", [
    (lambda user: accounts.set_enabled(user, False), "Your account was disabled"),
    (lambda user: accounts.set_password(user, "brand new pw"), "Your session ended"),
], ids=["disabled", "new-password"])
def test_an_open_page_goes_to_login_saying_why(app, live_server, browser, staff_accounts, path, change, says):
    page = logged_in(browser, live_server.url, "dana", PASSWORD, path=path)
    wait_live(page)
    _end(app, change)
    page.wait_for_url(live_server.url + "/login?next=" + path, timeout=5_000)
    assert says in page.locator(".flashes").inner_text()
    assert [e for e in page.errors if "401" not in e] == []  # the check's own 401 may be logged


def test_a_still_signed_in_page_reconnects_after_the_server_closed_its_socket(app, live_server, browser,
                                                                           staff_accounts):
    page = logged_in(browser, live_server.url, "dana", PASSWORD, path="/stores")
    wait_live(page)
    page.evaluate("""() => { window.states = [];
        new MutationObserver(() => window.states.push(document.getElementById('conn').dataset.state))
            .observe(document.getElementById('conn'), {attributes: true}); }""")
    from app.extensions import socketio

    sid = next(iter(sockets._sockets(app)._users))
    socketio.server.disconnect(sid, namespace="/")  # e.g. a server-side hiccup, session intact
    page.wait_for_function("() => window.states.includes('reconnecting') && window.states.at(-1) === 'live'",
                           timeout=5_000)
    assert page.url.endswith("/stores")


def test_an_error_page_has_the_layout_and_every_request_of_a_page_load_succeeds(live_server, browser,
                                                                             staff_accounts):
    page = logged_in(browser, live_server.url, "dana", PASSWORD, path="/couriers")
    failed, answered = [], []
    page.on("response", lambda r: (answered.append(r.url), r.status >= 400 and failed.append((r.url, r.status))))
    page.evaluate("() => location.assign('/no-such-page')")  # as a link would: with a Referer
    page.wait_for_selector('[data-status="404"]')
    wait_icon_after(page, answered, live_server.url + "/no-such-page")
    assert page.locator(".topbar nav a").count() >= 4  # the navigation
    page.click('[data-link="back"]')
    page.wait_for_url(live_server.url + "/couriers")
    wait_icon_after(page, answered, live_server.url + "/couriers")
    assert failed == [(live_server.url + "/no-such-page", 404)]  # no /favicon.ico or other 404
    assert [e for e in page.errors if "404" not in e] == []


def wait_icon_after(page, answered: list, url: str) -> None:
    """Until the browser has fetched a page icon (its link's, or /favicon.ico without one)
    after the last answer for `url`: browsers fetch it once the page has loaded."""
    def icon_fetched():
        last = len(answered) - 1 - answered[::-1].index(url)
        return any("favicon" in later for later in answered[last + 1:])

    while not icon_fetched():
        try:
            page.wait_for_event("response")  # bounded by the context's default timeout
        except PlaywrightTimeout:
            raise AssertionError(f"no page icon was fetched after {url}: {answered}") from None

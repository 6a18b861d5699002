"""/stores in a real browser, live: OneTablet pausing a store or 86-ing an item shows on an
open page without a reload, and never wipes what an admin is typing in its form."""
import pytest

from app.services import accounts
from app.extensions import db
from browser import (  # noqa: F401  (fixtures are used by name)
    PASSWORD, browser, logged_in, record_socket_events, remote, staff_accounts, wait_live,
)

pytestmark = pytest.mark.browser


def open_stores_as_admin(app, browser, live_server):
    """/stores for an admin, who also sees the add-store form."""
    with app.app_context():
        accounts.create_user("ada", role="admin", password=PASSWORD)
        db.session.commit()
    return open_stores(browser, live_server, "ada")


def open_stores(browser, live_server, username):
    page = logged_in(browser, live_server.url, username, PASSWORD, path="/stores")
    page.evaluate("() => { window.samePage = true; }")  # gone if anything reloads the page
    wait_live(page)
    return page


def test_a_pause_and_an_86_reach_an_open_stores_page(live_server, remote, browser, staff_accounts):
    page = open_stores(browser, live_server, "dana")
    page.wait_for_selector('[data-store="store-1"] [data-status="open"]')

    remote.webhook("/stores/store-1/status", {"is_active": False, "reason": "Kitchen fire"})
    page.wait_for_selector('[data-store="store-1"] [data-status="paused"] >> text=Kitchen fire', timeout=5_000)
    remote.webhook("/stores/store-1/items", {"items": [{"merchant_supplied_id": "fries", "is_available": False}]})
    page.wait_for_selector('[data-store="store-1"] [data-item="fries"]', timeout=5_000)
    assert page.evaluate("() => window.samePage") is True
    assert page.errors == [] and page.dialogs == []


def test_a_change_waits_while_an_admin_types_in_the_add_store_form(app, live_server, remote, browser,
                                                                  staff_accounts):
    page = open_stores_as_admin(app, browser, live_server)
    page.fill("#store-name", "Pizza Pl")  # still typing: the field keeps the focus
    record_socket_events(page)
    asked = []
    page.on("request", lambda request: request.headers.get("hx-request") and asked.append(request.url))

    remote.webhook("/stores/store-1/status", {"is_active": False, "reason": "Kitchen fire"})
    page.wait_for_function("() => window.socketEvents.includes('store')")  # the push was handled...
    assert asked == []  # ...and did not reload the list under the typist
    assert page.input_value("#store-name") == "Pizza Pl"
    assert page.locator('[data-store="store-1"] [data-status="open"]').count() == 1

    page.click("h1")  # leaves the form: the list catches up, and the typing is kept
    page.wait_for_selector('[data-store="store-1"] [data-status="paused"]', timeout=5_000)
    assert page.input_value("#store-name") == "Pizza Pl"
    assert page.errors == [] and page.dialogs == []


def test_a_refresh_keeps_an_opened_menu_open_and_the_added_store_notice(app, live_server, remote, browser,
                                                                        staff_accounts):
    page = open_stores_as_admin(app, browser, live_server)
    page.click('details[data-menu="store-1"] > summary')
    page.fill("#store-merchant_supplied_id", "store-9")
    page.fill("#store-name", "Pizza Place")
    page.click("#add-store button[type=submit]")
    page.wait_for_selector("[data-notice] >> text=Pizza Place")
    assert page.evaluate("() => document.querySelector('details[data-menu=\"store-1\"]').open") is True
    page.click("h1")

    remote.webhook("/stores/store-1/status", {"is_active": False, "reason": "Kitchen fire"})
    page.wait_for_selector('[data-store="store-1"] [data-status="paused"]', timeout=5_000)
    # The refresh puts the notice back once its request is done: then it has finished.
    page.wait_for_selector("[data-notice] >> text=Pizza Place", timeout=5_000)
    assert page.evaluate("() => document.querySelector('details[data-menu=\"store-1\"]').open") is True
    assert page.errors == [] and page.dialogs == []

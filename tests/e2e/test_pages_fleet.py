"""/couriers in a real browser, through htmx: a wrong field is refused inline, a courier is
added, and deactivating one who carries an order warns first, naming it — all in place,
without reloading the page (and with the CSRF token the page carries)."""
import pytest

from app.services import actions
from app.extensions import db
from app.models import Courier
from browser import PASSWORD, browser, logged_in, remote, staff_accounts  # noqa: F401

pytestmark = pytest.mark.browser


def test_the_fleet_is_managed_in_place(app, live_server, remote, browser, staff_accounts):
    order_id = remote.create()
    remote.confirm(order_id)
    with app.app_context():
        mike = Courier(name="Mike Rivera", phone="+15559876543")
        db.session.add(mike)
        db.session.commit()
        mike_id = mike.id
        actions.assign_courier(order_id, courier_id=mike_id, actor="staff:test")

    page = logged_in(browser, live_server.url, "dana", PASSWORD, path="/couriers")
    page.evaluate("() => { window.samePage = true; }")  # gone if anything reloads the page

    page.fill("#courier-name", "Ana Lopez")
    page.fill("#courier-phone", "call me")
    page.click("#add-courier button[type=submit]")
    page.wait_for_selector('[data-error="phone"]')
    assert "A phone number is digits" in page.inner_text('[data-error="phone"]')
    assert page.input_value("#courier-name") == "Ana Lopez"  # what was typed is kept

    page.fill("#courier-phone", "+1 555 222 3333")
    page.click("#add-courier button[type=submit]")
    page.wait_for_selector("#fleet tr[data-courier-id] >> text=Ana Lopez")
    assert "Added Ana Lopez." in page.inner_text("#fleet .notice")

    mike_row = f'#fleet tr[data-courier-id="{mike_id}"]'
    assert order_id in page.inner_text(mike_row)
    page.click(f"{mike_row} button:has-text('Deactivate')")
    page.wait_for_selector('[data-warning="deactivate"]')
    warning = page.inner_text('[data-warning="deactivate"]')
    assert order_id in warning and "Mike Rivera is carrying 1 open order" in warning
    with app.app_context():
        assert db.session.get(Courier, mike_id).is_active

    page.click('[data-warning="deactivate"] button:has-text("Deactivate anyway")')
    page.wait_for_selector(f"{mike_row}.inactive")
    with app.app_context():
        assert not db.session.get(Courier, mike_id).is_active
    assert page.locator('[data-warning="deactivate"]').count() == 0

    page.click(f"{mike_row} button:has-text('Reactivate')")
    page.wait_for_selector(f"{mike_row}:not(.inactive)")
    assert page.evaluate("() => window.samePage") is True
    # Chromium logs the expected 422 and 409 answers as failed loads; anything else (a CSP
    # violation, a script error) is a failure.
    assert page.dialogs == [] and [e for e in page.errors if "Failed to load resource" not in e] == []


def _in_view(page, selector: str) -> bool:
    return page.evaluate("""s => { const r = document.querySelector(s).getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight; }""", selector)


def _focus_in(page, selector: str) -> bool:
    return page.evaluate("s => document.querySelector(s).contains(document.activeElement)", selector)


def test_with_a_long_fleet_each_message_shows_where_the_user_acted_and_takes_the_focus(
        app, live_server, remote, browser, staff_accounts):
    order_id = remote.create()
    remote.confirm(order_id)
    with app.app_context():
        db.session.add_all(Courier(name=f"Courier {n:02d}", phone=f"+1555000{n:04d}") for n in range(60))
        jonah = Courier(name="Zed Jonah Weiss", phone="+15559876543")  # sorts last: far down the page
        db.session.add(jonah)
        db.session.commit()
        jonah_id = jonah.id
        actions.assign_courier(order_id, courier_id=jonah_id, actor="staff:test")

    page = logged_in(browser, live_server.url, "dana", PASSWORD, path="/couriers")
    # Each row's button names its courier, for a screen reader's list of buttons.
    deactivate = page.get_by_role("button", name="Deactivate Zed Jonah Weiss")
    deactivate.click()
    warning = f'tr[data-message-for="{jonah_id}"] [data-warning="deactivate"]'
    page.wait_for_selector(warning)
    page.wait_for_function("s => document.querySelector(s).contains(document.activeElement)", arg=warning)
    assert "Deactivate anyway" in page.inner_text(warning)
    assert _in_view(page, warning)

    page.click(f'{warning} a:has-text("Keep Zed Jonah Weiss active")')
    page.wait_for_selector(f'tr[data-message-for="{jonah_id}"]', state="detached")
    page.wait_for_function("() => document.activeElement.getAttribute('aria-label') === 'Deactivate Zed Jonah Weiss'")

    page.fill("#courier-name", "Ana Lopez")
    page.fill("#courier-phone", "12")
    page.click("#add-courier button[type=submit]")
    page.wait_for_selector('[data-error="phone"]')
    page.wait_for_function("() => document.activeElement.id === 'courier-phone'")

    page.fill("#courier-phone", "+1 555 222 3333")
    page.click("#add-courier button[type=submit]")
    page.wait_for_selector("#add-courier .notice")
    assert "Added Ana Lopez." in page.inner_text("#add-courier .notice")
    page.wait_for_function("() => document.activeElement.matches('#add-courier .notice')")
    assert _in_view(page, "#add-courier .notice")

    page.get_by_role("button", name="Deactivate Zed Jonah Weiss").click()
    page.wait_for_selector(warning)
    page.click(f'{warning} button:has-text("Deactivate anyway")')
    notice = f'tr[data-message-for="{jonah_id}"] .notice'
    page.wait_for_selector(notice)
    page.wait_for_function("s => document.activeElement.matches(s)", arg=notice)
    assert "Deactivated Zed Jonah Weiss" in page.inner_text(notice) and _in_view(page, notice)
    page.get_by_role("button", name="Reactivate Zed Jonah Weiss").click()
    page.wait_for_selector(f'tr[data-message-for="{jonah_id}"] >> text=is active again')
    page.wait_for_function("s => document.activeElement.matches(s)", arg=notice)

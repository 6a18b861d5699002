"""/couriers in a real browser, through htmx: a wrong field is refused inline, a courier is
added, and deactivating one who carries an order warns first, naming it — all in place,
without reloading the page (and with the CSRF token the page carries)."""
import pytest

from app import actions
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

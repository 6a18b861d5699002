"""/webhooks in the viewer's own time: the log is read beside the reader's clock, so each
received time the server wrote in UTC is shown in the browser's time zone, named, with the
UTC time kept in its tooltip (static/js/times.js; no inline script under the CSP)."""
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import WebhookReceipt
from browser import PASSWORD, browser, logged_in, staff_accounts  # noqa: F401  (fixtures by name)

pytestmark = pytest.mark.browser

RECEIVED = datetime(2026, 12, 8, 2, 4, 5, tzinfo=timezone.utc)


@pytest.fixture
def receipt(app):
    with app.app_context():
        row = WebhookReceipt(received_at=RECEIVED, method="PATCH", path="/onetablet/orders/o-1", kind="order_ready",
                             order_id="o-1", headers={}, body="{}", verdict="applied", status_code=200)
        db.session.add(row)
        db.session.commit()
        return row.id


@pytest.mark.parametrize("zone, shown", [
    ("America/New_York", "2026-12-07 21:04:05 EST"),  # the day before, in New York
    ("Australia/Adelaide", "2026-12-08 12:34:05 GMT+10:30"),  # a half-hour offset, no abbreviation
])
def test_received_times_show_in_the_viewers_zone_with_utc_on_hover(live_server, browser, staff_accounts, receipt,
                                                                      zone, shown):
    page = logged_in(browser, live_server.url, "dana", PASSWORD, path="/webhooks", timezone_id=zone)
    row = page.locator(f'[data-receipt-id="{receipt}"]')
    time = row.locator("time[data-viewer-time]")
    assert time.inner_text() == shown
    assert time.get_attribute("title") == "2026-12-08 02:04:05 UTC"
    assert page.inner_text("[data-viewer-zone]") == f"Times in your time zone, {zone}; hover one for UTC."
    # A filter swaps the log in by htmx: its times are shown local too.
    page.evaluate("document.querySelector('#webhook-log').dataset.before = 'swap'")
    page.select_option("#filter-verdict", "applied")
    page.click("#webhook-filters button[type=submit]")
    page.wait_for_function("() => !document.querySelector('#webhook-log').dataset.before")
    assert "verdict=applied" in page.url
    expect(row.locator("time[data-viewer-time]")).to_have_text(shown)
    # So is the receipt a "raw" link loads below its row.
    page.click(f'[data-receipt-id="{receipt}"] a.raw-toggle')
    expect(page.locator(f"#receipt-{receipt} .receipt time[data-viewer-time]")).to_have_text(shown)
    assert page.errors == []  # no CSP violation, no script error

"""The staff pages in a real browser: customer, courier and OneTablet text that looks like
HTML stays text on /couriers, /refunds and the webhook log (raw body opened by htmx), no
dialog fires, and the strict CSP reports nothing (no console errors)."""
import json

import pytest
import requests

from app.services import actions
from app.extensions import db
from app.models import Courier
from browser import PASSWORD, browser, logged_in, remote, staff_accounts  # noqa: F401
from tests.helpers import signed_headers

pytestmark = pytest.mark.browser
EVIL = "<img src=x onerror=alert(1)>"


def test_html_in_names_and_webhook_bodies_is_shown_as_text_and_runs_nothing(app, live_server, remote, browser,
                                                                           staff_accounts):
    evil_customer = {"consumer": {"id": 1, "first_name": EVIL, "last_name": "Doe", "phone": "+15550000000"}}
    carried, rejected = remote.create(**evil_customer), remote.create(**evil_customer)
    remote.confirm(carried)
    remote.webhook(f"/orders/{rejected}", {"merchant_supplied_id": "R-1", "order_status": "fail",
                                           "failure_reason": EVIL})
    raw = json.dumps({"cancel_reason": "OTHER", "cancel_details": EVIL})
    unknown = requests.patch(live_server.url + "/onetablet/orders/no-such-order/cancellation", data=raw,
                             headers=signed_headers(raw), timeout=5)
    assert unknown.status_code == 404
    with app.app_context():
        courier = Courier(name=EVIL, phone="+15559876543")
        db.session.add(courier)
        db.session.commit()
        actions.assign_courier(carried, courier_id=courier.id, actor="staff:test")

    page = logged_in(browser, live_server.url, "maya", PASSWORD, path="/couriers")
    row = page.locator(f'[data-carried-order="{carried}"]')
    assert EVIL in row.inner_text()
    assert EVIL in page.locator("#fleet tr[data-courier-id] td.name").first.inner_text()

    page.goto(live_server.url + "/refunds")
    assert EVIL in page.locator("#refunds td.customer").first.inner_text()
    assert EVIL in page.locator("#refunds").inner_text()  # the rejection reason

    page.goto(live_server.url + "/webhooks?kind=order_cancellation")
    page.click("a.raw-toggle")  # htmx loads the raw body into the row below
    page.wait_for_selector(".receipt pre")
    assert EVIL in page.locator(".receipt").inner_text()
    assert page.url.endswith("/webhooks?kind=order_cancellation")  # swapped in, no navigation
    page.click("a.raw-toggle")  # and the same link closes it again
    page.wait_for_selector(".receipt", state="detached")
    page.click("a.raw-toggle")
    page.wait_for_selector(".receipt pre")

    assert page.locator("main img").count() == 0
    assert page.dialogs == []
    assert page.errors == []  # no CSP violation, no script error

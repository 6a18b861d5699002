"""Every staff page fits an 800 px wide window with a shift's data in it: wide tables scroll
inside their own box, forms wrap, and the page itself never scrolls sideways."""
import json
import os
import random
import uuid

import pytest
import requests

from app.infra import clock
from app.services import accounts
from app.extensions import db
from app.models import Order, Refund
from bench.board import seed
from browser import PASSWORD, browser, logged_in, staff_accounts, wait_live  # noqa: F401  (fixtures by name)
from tests.helpers import PLATFORM_KEY, order_body, signed_headers

pytestmark = pytest.mark.browser

PAGES = ["/", "/couriers", "/stores", "/refunds", "/webhooks", "/reports"]


@pytest.fixture
def shift(app, live_server):
    """Open and finished orders, refunds waiting, and webhooks in the log (applied and refused)."""
    with app.app_context():
        open_ids = seed(36, now=clock.now(), rng=random.Random(5), finished=24, failed_calls=2, overdue_share=0.3)
        finished = db.session.execute(db.select(Order).where(Order.state.in_(("cancelled", "rejected")))).scalars()
        for order in finished:
            db.session.add(Refund(order_id=order.id, amount=order.total,
                                  reason=order.cancel_reason or order.failure_reason))
        db.session.commit()
    menu = {"categories": [{"name": "Mains", "items": [
        {"merchant_supplied_id": f"item-{k}", "name": f"Slow-roasted dish number {k} with seasonal sides",
         "price": 1000 + k} for k in range(6)]}]}
    send(live_server, "PUT", "/stores/store-1/menu", menu)
    for n in range(4):  # the customer app's own ids: UUIDs, long and unbreakable
        body = order_body(f"order-{uuid.uuid4()}", categories=[{"name": "Mains", "items": [
            {"merchant_supplied_id": "item-1", "quantity": 2, "price": 1001}]}])
        requests.post(f"{live_server.url}/api/orders", json=body, timeout=5,
                      headers={"Authorization": f"Bearer {PLATFORM_KEY}"}).raise_for_status()
        if n % 2:
            send(live_server, "PATCH", f"/orders/{body['id']}/cancellation",
                 {"cancel_reason": "ITEM_OUT_OF_STOCK", "cancel_details": "Out of the seasonal sides"})
            send(live_server, "PATCH", f"/orders/{body['id']}",  # too late: refused, with its reason
                 {"merchant_supplied_id": f"R-{body['id']}", "order_status": "success"})
        else:
            send(live_server, "PATCH", f"/orders/{body['id']}/events/order_ready_for_pickup",
                 {"merchant_supplied_id": f"R-{body['id']}"})
    for order_id in open_ids[:12]:
        send(live_server, "PATCH", f"/orders/{order_id}",
             {"merchant_supplied_id": f"R-{order_id}-kitchen-ticket-0001", "order_status": "success"})


def send(live_server, method: str, path: str, body: dict) -> None:
    """A signed webhook; refused ones (a 409 for an order past confirmation) belong in the log too."""
    raw = json.dumps(body)
    requests.request(method, f"{live_server.url}/onetablet{path}", data=raw, headers=signed_headers(raw), timeout=5)


OVERFLOWING = """() => {
    const width = window.innerWidth;
    const wide = [...document.querySelectorAll('body *')].filter(el => el.getBoundingClientRect().right > width + 1);
    return {scroll: document.documentElement.scrollWidth, width,
            wide: wide.filter(el => !wide.includes(el.parentElement)).slice(0, 5).map(el => el.tagName + '.' + el.className)};
}"""


def test_every_page_fits_an_800px_window(app, live_server, browser, staff_accounts, shift, tmp_path):
    with app.app_context():  # an admin: the most links in the top bar
        accounts.create_user("ada", role="admin", password=PASSWORD)
        db.session.commit()
    page = logged_in(browser, live_server.url, "ada", PASSWORD)
    page.set_viewport_size({"width": 800, "height": 700})
    overflowing = {}
    for path in PAGES:
        page.goto(live_server.url + path)
        page.wait_for_load_state("load")
        seen = [page.evaluate(OVERFLOWING)]  # the board as it connects ...
        if path == "/":
            wait_live(page)  # ... and once live (the connection's label changes width)
        if path == "/reports":
            page.wait_for_selector("canvas[data-drawn]")
        assert page.locator("table, .board").count() > 0, path  # the page has its data
        seen.append(page.evaluate(OVERFLOWING))
        overflowing.update({path: s for s in seen if s["scroll"] > s["width"]})
        if os.environ.get("PASSLINE_SCREENSHOT_DIR"):
            page.screenshot(path=os.path.join(os.environ["PASSLINE_SCREENSHOT_DIR"],
                                              f"800px-{path.strip('/') or 'board'}.png"), full_page=True)
    assert overflowing == {}  # each page: its width, and the last elements past the window's edge
    assert page.errors == [] and page.dialogs == []

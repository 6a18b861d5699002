"""/refunds: refunds opened by rejections and cancellations wait here until a manager marks
them processed (who, when), which is audited on the order."""
import pytest

from app.extensions import db
from app.models import OrderEvent, Refund

pytestmark = pytest.mark.usefixtures("fast_passwords")  # many logins per module


def refund_of(app, order_id) -> Refund:
    with app.app_context():
        return db.session.query(Refund).filter_by(order_id=order_id).one()


def test_a_rejected_order_waits_in_the_queue_with_its_amount_and_reason(app, hook, submitted, staff):
    assert hook.reject(submitted, reason="Out of buns").status_code == 200
    staff.login("manager")
    page = staff.get("/refunds").get_data(as_text=True)
    row = page[page.index(f'data-refund-id="{refund_of(app, submitted).id}"'):]
    row = row[:row.index("</tr>")]
    assert submitted in row and "Out of buns" in row and "$25.89" in row and "John Doe" in row
    assert "Mark processed" in row
    assert '<span data-count="pending">1 waiting</span>' in page


def test_marking_a_refund_processed_records_who_and_when_and_audits_the_order(app, hook, api, submitted, staff):
    hook.cancel(submitted, reason="KITCHEN_BUSY")
    staff.login("manager", username="max")
    refund = refund_of(app, submitted)

    response = staff.post(f"/refunds/{refund.id}/process")
    assert response.status_code == 303
    done = refund_of(app, submitted)
    assert (done.status, done.processed_by) == ("processed", "staff:max") and done.processed_at
    last = api.order(submitted)["timeline"][-1]
    assert (last["event"], last["actor"], last["from_state"], last["to_state"]) == (
        "refund_processed", "staff:max", "cancelled", "cancelled")
    assert last["refused"] is False

    page = staff.get("/refunds").get_data(as_text=True)
    assert "Nothing waiting" in page
    processed = page[page.index("Recently processed"):]
    assert submitted in processed and "<td>max</td>" in processed and "Kitchen busy" in processed


def test_a_refund_is_processed_once(app, hook, api, submitted, staff):
    hook.reject(submitted)
    staff.login("manager", username="max")
    refund = refund_of(app, submitted)
    assert staff.post(f"/refunds/{refund.id}/process").status_code == 303
    again = staff.post(f"/refunds/{refund.id}/process")
    assert again.status_code == 409
    assert "already processed by max at" in again.get_data(as_text=True)  # the name, not staff:max
    with app.app_context():
        audits = db.session.query(OrderEvent).filter_by(order_id=submitted, event="refund_processed").count()
    assert audits == 1


def test_htmx_processing_answers_the_refreshed_queue(app, hook, submitted, staff):
    hook.reject(submitted)
    staff.login("admin")
    response = staff.post(f"/refunds/{refund_of(app, submitted).id}/process", htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.lstrip().startswith('<section id="refunds"')
    assert "marked processed" in page


def test_an_unknown_refund_is_404(staff):
    staff.login("manager")
    assert staff.post("/refunds/12345/process").status_code == 404


def test_the_nav_offers_refunds_to_managers_only(staff, auth):
    staff.login("dispatcher")
    assert 'href="/refunds"' not in staff.get("/couriers").get_data(as_text=True)
    staff.client.post("/logout", data={"csrf_token": staff._token})
    staff.login("manager")
    assert 'href="/refunds"' in staff.get("/couriers").get_data(as_text=True)


def test_a_cancelled_orders_refund_shows_what_was_said_and_asks_before_it_is_final(app, hook, submitted, staff):
    hook.cancel(submitted, reason="OTHER", details="Customer called: moving house")
    staff.login("manager")
    page = staff.get("/refunds").get_data(as_text=True)
    row = page[page.index(f'data-refund-id="{refund_of(app, submitted).id}"'):]
    row = row[:row.index("</tr>")]
    assert "Other" in row and "Customer called: moving house" in row  # what the manager approves on
    assert 'hx-confirm="Mark $25.89 to John Doe as refunded? This cannot be undone."' in row
    assert f'aria-label="Mark the refund of {submitted} processed"' in row


def test_refund_times_are_the_stores_local_time_as_on_the_board(app, hook, submitted, staff):
    from zoneinfo import ZoneInfo
    hook.reject(submitted, reason="Out of buns")
    staff.login("manager")
    refund = refund_of(app, submitted)
    page = staff.get("/refunds").get_data(as_text=True)
    row = page[page.index(f'data-refund-id="{refund.id}"'):]
    row = row[:row.index("</tr>")]
    local = refund.created_at.astimezone(ZoneInfo("America/New_York"))  # the store's zone (order_body)
    assert f'>{local.strftime("%b %d %H:%M %Z")}</time>' in row  # EST or EDT, never UTC on the row
    assert f'title="{refund.created_at.strftime("%Y-%m-%d %H:%M:%S")} UTC"' in row  # the exact instant on hover

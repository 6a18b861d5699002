"""Staff actions go through the lifecycle, are audited, and queue OneTablet's calls."""
import pytest

from app.services import actions
from app.extensions import db
from app.models import OutboxMessage


def test_staff_cancel_queues_the_cancel_call(app, api, submitted):
    with app.app_context():
        actions.cancel(submitted, reason="OTHER", details="customer called", actor="staff:dana")
        [call] = db.session.query(OutboxMessage).filter_by(kind="cancel").all()
        assert call.path == f"/orders/{submitted}/cancel"
        assert call.payload["store"] == {"merchant_supplied_id": "store-1"}
    timeline = api.order(submitted)["timeline"]
    assert (timeline[-1]["event"], timeline[-1]["actor"]) == ("cancelled", "staff:dana")


def test_assign_and_status_queue_delivery_status_calls(app, hook, api, submitted, courier):
    hook.confirm(submitted)
    with app.app_context():
        actions.assign_courier(submitted, courier_id=courier, actor="staff:dana")
        actions.courier_status(submitted, status="arriving_at_store", actor="staff:dana")
        calls = db.session.query(OutboxMessage).filter_by(kind="delivery_status").order_by(OutboxMessage.id).all()
        assert [c.payload["dasher_status"] for c in calls] == ["dasher_confirmed", "arriving_at_store"]
        assert calls[0].payload["dasher"] == {"first_name": "Mike", "phone_number": "+15559876543"}


def test_a_forbidden_action_is_audited_and_changes_nothing(app, api, submitted):
    with app.app_context():
        actions.cancel(submitted, reason="OTHER", details=None, actor="staff:dana")
        with pytest.raises(actions.ActionError):
            actions.picked_up(submitted, actor="staff:dana")
    order = api.order(submitted)
    assert order["state"] == "cancelled"
    assert order["timeline"][-1]["refused"] is True


# --- a manager's override to cancelled is a staff cancellation: OneTablet is told ------

def cancel_calls(app, order_id):
    with app.app_context():
        return [(m.path, m.payload["reason"]) for m in
                db.session.query(OutboxMessage).filter_by(order_id=order_id, kind="cancel").order_by(OutboxMessage.id)]


@pytest.mark.usefixtures("fast_passwords")
def test_a_managers_override_to_cancelled_queues_the_cancel_call_like_a_staff_cancel(app, staff, hook, api,
                                                                                      submitted):
    hook.confirm(submitted)  # the restaurant is cooking
    staff.login("manager")
    done = staff.post(f"/orders/{submitted}/override", {"to_state": "cancelled", "reason": "customer moved away"},
                      htmx=True)
    assert done.status_code == 200
    assert "OneTablet will be told of the cancellation" in done.get_data(as_text=True)  # the manager knows
    order = api.order(submitted)
    assert (order["state"], order["cancel_reason"]) == ("cancelled", "OTHER")
    assert cancel_calls(app, submitted) == [(f"/orders/{submitted}/cancel", "OTHER: customer moved away")]


@pytest.mark.usefixtures("fast_passwords")
def test_an_override_to_cancelled_of_an_order_onetablet_has_done_with_tells_it_nothing(app, staff, hook, submitted):
    hook.reject(submitted)  # the restaurant declined: nothing to cancel there (a staff cancel is refused)
    staff.login("manager")
    done = staff.post(f"/orders/{submitted}/override", {"to_state": "cancelled", "reason": "count it as ours"},
                      htmx=True)
    assert done.status_code == 200 and "Override applied." in done.get_data(as_text=True)
    assert "OneTablet will be told" not in done.get_data(as_text=True)
    assert cancel_calls(app, submitted) == []


@pytest.mark.usefixtures("fast_passwords")
def test_an_override_out_of_cancelled_tells_onetablet_nothing(app, staff, hook, api, submitted):
    hook.cancel(submitted, "KITCHEN_BUSY")  # the restaurant's own cancellation
    staff.login("manager")
    assert staff.post(f"/orders/{submitted}/override", {"to_state": "confirmed", "reason": "restaurant called back"},
                      htmx=True).status_code == 200
    assert api.order(submitted)["state"] == "confirmed"
    with app.app_context():
        assert db.session.query(OutboxMessage).filter(OutboxMessage.order_id == submitted,
                                                      OutboxMessage.target == "onetablet",
                                                      OutboxMessage.kind != "create_order").count() == 0

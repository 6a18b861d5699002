"""Staff actions go through the lifecycle, are audited, and queue OneTablet's calls."""
import pytest

from app import actions
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

"""Property: whatever the order and repetition in which OneTablet's webhooks arrive, the
audit trail equals the pure lifecycle fed each distinct event once, in first-arrival order."""
import itertools
import uuid
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.lifecycle import Cancel, Confirm, Forbidden, Lifecycle, Ready, Submit
from tests.helpers import order_body
from tests.unit.test_lifecycle import FakeOrder

EVENTS = ["confirm", "ready", "cancel"]
_ids = itertools.count()


def expected_audit(first_arrivals):
    lc, order, now = Lifecycle(), FakeOrder(), datetime.now(timezone.utc)
    rows = [(c.event, c.from_state, c.to_state, c.implied, False) for c in lc.handle(order, Submit(), now=now)]
    for event in first_arrivals:
        try:
            changes = {"confirm": lambda: lc.handle(order, Confirm(merchant_supplied_id="R"), now=now),
                       "ready": lambda: lc.handle(order, Ready(merchant_supplied_id="R"), now=now),
                       "cancel": lambda: lc.handle(order, Cancel(reason="KITCHEN_BUSY", by="onetablet"), now=now)}[event]()
        except Forbidden:
            rows.append(({"confirm": "confirmed", "ready": "ready", "cancel": "cancelled"}[event],
                         order.state, order.state, False, True))
            continue
        rows += [(c.event, c.from_state, c.to_state, c.implied, False) for c in changes]
    return rows, order.state


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deliveries=st.lists(st.sampled_from(EVENTS), min_size=1, max_size=8), same_id=st.booleans())
def test_shuffled_and_repeated_webhooks_audit_each_change_once(api, hook, menu, deliveries, same_id):
    order_id = f"prop-{next(_ids)}-{uuid.uuid4().hex[:6]}"
    assert api.create(order_body(order_id)).status_code == 201
    for i, event in enumerate(deliveries):
        webhook_id = f"{order_id}-{event}" if same_id else f"{order_id}-{event}-{i}"
        send = {"confirm": lambda: hook.send("PATCH", f"/orders/{order_id}",
                                             {"merchant_supplied_id": "R", "order_status": "success"},
                                             webhook_id=webhook_id),
                "ready": lambda: hook.send("PATCH", f"/orders/{order_id}/events/order_ready_for_pickup",
                                           {"merchant_supplied_id": "R"}, webhook_id=webhook_id),
                "cancel": lambda: hook.send("PATCH", f"/orders/{order_id}/cancellation",
                                            {"cancel_reason": "KITCHEN_BUSY"}, webhook_id=webhook_id)}[event]
        assert send().status_code in (200, 409)
    rows, state = expected_audit(list(dict.fromkeys(deliveries)))
    order = api.order(order_id)
    assert order["state"] == state
    assert [(t["event"], t["from_state"], t["to_state"], t["implied"], t["refused"])
            for t in order["timeline"]] == rows

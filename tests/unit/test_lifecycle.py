"""The order lifecycle alone (contract §1, §2): no Flask, no database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import lifecycle as lc
from app.domain.lifecycle import AssignCourier, Cancel, CheckOverdue, Confirm, Forbidden, Lifecycle, Override, PickUp, PostCourierStatus, Ready, Reject, Submit

T0 = datetime(2026, 11, 27, 18, 0, tzinfo=timezone.utc)


@dataclass
class FakeOrder:
    fulfillment_type: str = "mx_fleet_delivery"
    state: Optional[str] = None
    merchant_supplied_id: Optional[str] = None
    prep_time: Optional[datetime] = None
    prep_time_sent_at: Optional[datetime] = None
    failure_reason: Optional[str] = None
    cancel_reason: Optional[str] = None
    cancel_details: Optional[str] = None
    cancelled_by: Optional[str] = None
    courier_id: Optional[int] = None
    courier_status: Optional[str] = None
    version: int = 0
    created_at: Optional[datetime] = None
    state_changed_at: Optional[datetime] = None
    confirmed_at: Optional[datetime] = None
    ready_at: Optional[datetime] = None
    in_transit_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    deadline_limit: Optional[str] = None
    deadline_started_at: Optional[datetime] = None
    deadline_at: Optional[datetime] = None
    next_alarm_at: Optional[datetime] = None
    overdue_limit: Optional[str] = None
    overdue_level: int = 0
    overdue_since: Optional[datetime] = None
    acknowledged_at: Optional[datetime] = None


L = Lifecycle()


def new_order(**kw) -> FakeOrder:
    order = FakeOrder(**kw)
    L.handle(order, Submit(), now=T0)
    return order


def test_submit_waits_for_confirmation_within_five_minutes():
    order = new_order()
    assert order.state == lc.SUBMITTED
    assert (order.deadline_limit, order.deadline_at) == ("confirmation", T0 + timedelta(minutes=5))


def test_confirmation_keeps_restaurant_id_and_prep_time():
    order = new_order()
    prep = T0 + timedelta(minutes=25)
    changes = L.handle(order, Confirm(merchant_supplied_id="R1", prep_time=prep), now=T0 + timedelta(minutes=1))
    assert [(c.event, c.from_state, c.to_state) for c in changes] == [("confirmed", "submitted", "confirmed")]
    assert (order.merchant_supplied_id, order.prep_time) == ("R1", prep)
    assert order.deadline_at == prep + timedelta(minutes=5)


def test_confirmation_without_prep_time_allows_twenty_minutes():
    order = new_order()
    L.handle(order, Confirm(merchant_supplied_id="R1"), now=T0)
    assert order.deadline_at == T0 + timedelta(minutes=20)


def test_ready_before_confirmation_implies_confirmed():
    order = new_order()
    changes = L.handle(order, Ready(merchant_supplied_id="R1"), now=T0)
    assert [(c.event, c.to_state, c.implied) for c in changes] == [
        ("confirmed", "confirmed", True), ("ready", "ready", False)]
    assert order.state == lc.READY and order.ready_at == T0
    assert order.confirmed_at is None  # no known time: the reports leave the step out, not 0 minutes


def test_late_confirmation_records_prep_time_without_moving_back():
    order = new_order()
    L.handle(order, Ready(), now=T0)
    prep = T0 + timedelta(minutes=10)
    changes = L.handle(order, Confirm(merchant_supplied_id="R1", prep_time=prep), now=T0)
    assert order.state == lc.READY and order.prep_time == prep
    assert changes[0].from_state == changes[0].to_state == lc.READY and changes[0].detail["late"]


def finished(terminal: str) -> FakeOrder:
    """An order the restaurant never confirmed, now cancelled or completed."""
    order = new_order()
    if terminal == lc.CANCELLED:
        L.handle(order, Cancel(reason="OTHER", details="customer called", by="staff:ann"), now=T0)
    else:
        L.handle(order, Override(to_state=lc.COMPLETED, reason="delivered, tablet offline", by="staff:mia"), now=T0)
    return order


@pytest.mark.parametrize("terminal", [lc.CANCELLED, lc.COMPLETED])
def test_a_late_confirmation_of_a_finished_order_keeps_its_data_and_the_state(terminal):
    order = finished(terminal)
    version = order.version
    prep = T0 + timedelta(minutes=25)
    [change] = L.handle(order, Confirm(merchant_supplied_id="R1", prep_time=prep), now=T0 + timedelta(minutes=3))
    assert (change.event, change.from_state, change.to_state) == ("confirmed", terminal, terminal)
    assert change.detail == {"merchant_supplied_id": [None, "R1"], "prep_time": [None, prep.isoformat()],
                             "late": True}
    assert (order.state, order.merchant_supplied_id, order.prep_time) == (terminal, "R1", prep)
    assert (order.deadline_at, order.next_alarm_at, order.confirmed_at) == (None, None, None)  # still over
    assert order.version == version + 1
    assert L.handle(order, Confirm(merchant_supplied_id="R1", prep_time=prep), now=T0) == []  # again: nothing new


def test_a_confirmation_of_a_rejected_order_stays_refused():
    order = new_order()
    L.handle(order, Reject(merchant_supplied_id="R1", reason="closed"), now=T0)
    with pytest.raises(Forbidden):
        L.handle(order, Confirm(merchant_supplied_id="R1", prep_time=T0), now=T0)
    assert (order.state, order.prep_time) == (lc.REJECTED, None)


@pytest.mark.parametrize("terminal", [lc.CANCELLED, lc.COMPLETED])
def test_a_rejection_of_a_finished_order_is_refused_but_keeps_an_unknown_restaurant_id(terminal):
    order = finished(terminal)
    version = order.version
    with pytest.raises(Forbidden) as refused:
        L.handle(order, Reject(merchant_supplied_id="R1", reason="closed"), now=T0)
    assert refused.value.kept == {"merchant_supplied_id": [None, "R1"]}
    assert (order.state, order.merchant_supplied_id, order.failure_reason) == (terminal, "R1", None)
    assert order.version == version + 1
    with pytest.raises(Forbidden) as again:  # an id we have is not replaced by a refused event's
        L.handle(order, Reject(merchant_supplied_id="R2", reason="closed"), now=T0)
    assert again.value.kept == {} and order.merchant_supplied_id == "R1" and order.version == version + 1


def test_a_ready_for_a_cancelled_order_is_refused_but_keeps_an_unknown_restaurant_id():
    order = finished(lc.CANCELLED)
    with pytest.raises(Forbidden) as refused:
        L.handle(order, Ready(merchant_supplied_id="R1"), now=T0)
    assert refused.value.kept == {"merchant_supplied_id": [None, "R1"]}
    assert (order.state, order.merchant_supplied_id) == (lc.CANCELLED, "R1")
    with pytest.raises(Forbidden) as again:
        L.handle(order, Ready(merchant_supplied_id="R2"), now=T0)
    assert again.value.kept == {} and order.merchant_supplied_id == "R1"


def test_an_older_prep_time_arriving_later_is_ignored_and_noted_as_stale():
    order = new_order()
    sent = T0 + timedelta(minutes=2)
    newer, older = T0 + timedelta(minutes=30), T0 + timedelta(minutes=10)
    L.handle(order, Confirm(merchant_supplied_id="R1", prep_time=newer, sent_at=sent), now=sent)
    deadline, version = order.deadline_at, order.version
    [change] = L.handle(order, Confirm(merchant_supplied_id="R1", prep_time=older, sent_at=sent - timedelta(seconds=120)), now=sent + timedelta(seconds=5))
    assert (change.event, change.from_state, change.to_state) == ("confirmed", lc.CONFIRMED, lc.CONFIRMED)
    assert change.detail == {"stale": {"prep_time": older.isoformat(),
                                       "sent_at": (sent - timedelta(seconds=120)).isoformat(),
                                       "kept_sent_at": sent.isoformat()}}
    assert (order.prep_time, order.prep_time_sent_at, order.deadline_at) == (newer, sent, deadline)
    assert order.version == version + 1  # audited, so the card's trail changes


def test_a_newer_prep_time_replaces_the_kept_one_and_moves_the_deadline():
    order = new_order()
    L.handle(order, Confirm(prep_time=T0 + timedelta(minutes=10), sent_at=T0), now=T0)
    later = T0 + timedelta(minutes=1)
    [change] = L.handle(order, Confirm(prep_time=T0 + timedelta(minutes=30), sent_at=later), now=later)
    assert "stale" not in change.detail and "late" not in change.detail
    assert (order.prep_time, order.prep_time_sent_at) == (T0 + timedelta(minutes=30), later)
    assert order.deadline_at == T0 + timedelta(minutes=35)
    # sent in the same second as the kept one: the later arrival wins, as for store statuses
    L.handle(order, Confirm(prep_time=T0 + timedelta(minutes=25), sent_at=later), now=later)
    assert order.prep_time == T0 + timedelta(minutes=25)


def test_a_stale_prep_time_on_a_late_confirmation_is_ignored_too():
    order = new_order()
    L.handle(order, Confirm(prep_time=T0 + timedelta(minutes=30), sent_at=T0), now=T0)
    L.handle(order, Ready(), now=T0 + timedelta(minutes=20))
    [change] = L.handle(order, Confirm(merchant_supplied_id="R1", prep_time=T0 + timedelta(minutes=5), sent_at=T0 - timedelta(minutes=1)), now=T0 + timedelta(minutes=21))
    assert change.detail["late"] and change.detail["stale"]["prep_time"] == (T0 + timedelta(minutes=5)).isoformat()
    assert change.detail["merchant_supplied_id"] == [None, "R1"]  # its other data is still kept
    assert order.prep_time == T0 + timedelta(minutes=30)


def test_same_event_twice_changes_nothing_the_second_time():
    order = new_order()
    assert L.handle(order, Confirm(merchant_supplied_id="R1"), now=T0)
    version = order.version
    assert L.handle(order, Confirm(merchant_supplied_id="R1"), now=T0) == []
    assert order.version == version


@pytest.mark.parametrize("terminal", ["rejected", "cancelled", "completed"])
def test_terminal_orders_refuse_to_move(terminal):
    order = new_order(fulfillment_type="pickup")
    if terminal == "rejected":
        L.handle(order, Reject(reason="closed"), now=T0)
    elif terminal == "cancelled":
        L.handle(order, Cancel(reason="KITCHEN_BUSY", by="onetablet"), now=T0)
    else:
        L.handle(order, Ready(), now=T0)
        L.handle(order, PickUp(), now=T0)
    with pytest.raises(Forbidden):
        L.handle(order, Cancel(reason="OTHER", by="staff:ann"), now=T0) if terminal != "cancelled" else L.handle(order, Reject(), now=T0)
    assert order.state == terminal and order.deadline_at is None


def test_rejection_after_confirmation_is_forbidden():
    order = new_order()
    L.handle(order, Confirm(), now=T0)
    with pytest.raises(Forbidden):
        L.handle(order, Reject(reason="too late"), now=T0)
    assert order.state == lc.CONFIRMED


def test_manager_override_moves_a_terminal_order_with_a_reason():
    order = new_order()
    L.handle(order, Cancel(reason="OTHER", by="staff:ann"), now=T0)
    with pytest.raises(Forbidden):
        L.handle(order, Override(to_state=lc.CONFIRMED, reason=" ", by="staff:mia"), now=T0)
    [change] = L.handle(order, Override(to_state=lc.CONFIRMED, reason="cancelled by mistake", by="staff:mia"), now=T0)
    assert (change.event, change.from_state, change.to_state) == ("override", "cancelled", "confirmed")
    assert order.deadline_limit == "preparation"
    assert (order.cancel_reason, order.cancelled_by) == (None, None)  # the cancellation no longer stands


def test_a_manager_cancelling_by_override_is_a_staff_cancellation():
    order = new_order()
    L.handle(order, Ready(), now=T0)
    L.handle(order, Override(to_state=lc.CANCELLED, reason="Courier lost the order", by="staff:mia"), now=T0)
    assert (order.state, order.cancel_reason, order.cancel_details, order.cancelled_by) == (
        lc.CANCELLED, "OTHER", "Courier lost the order", "staff:mia")


def test_courier_status_moves_forward_only_and_drives_the_state():
    order = new_order()
    L.handle(order, Confirm(), now=T0)
    with pytest.raises(Forbidden):
        L.handle(order, PostCourierStatus("arriving_at_store"), now=T0)  # no courier yet
    L.handle(order, AssignCourier(7), now=T0)
    assert order.courier_status == "dasher_confirmed"
    L.handle(order, PostCourierStatus("arrived_at_store"), now=T0)
    with pytest.raises(Forbidden):
        L.handle(order, PostCourierStatus("arriving_at_store"), now=T0)
    changes = L.handle(order, PostCourierStatus("dasher_out_for_delivery"), now=T0)
    assert [(c.to_state, c.implied) for c in changes] == [("ready", True), ("in_transit", False)]
    with pytest.raises(Forbidden):
        L.handle(order, AssignCourier(8), now=T0)  # picked up: too late to reassign
    L.handle(order, PostCourierStatus("dropoff"), now=T0)
    assert order.state == lc.COMPLETED


def test_reassigning_starts_the_new_courier_at_dasher_confirmed():
    order = new_order()
    L.handle(order, AssignCourier(1), now=T0)
    L.handle(order, PostCourierStatus("arrived_at_store"), now=T0)
    [change] = L.handle(order, AssignCourier(2), now=T0)
    assert change.event == "courier_reassigned"
    assert (order.courier_id, order.courier_status) == (2, "dasher_confirmed")


def test_pickup_orders_have_no_courier_and_are_picked_up_by_staff():
    order = new_order(fulfillment_type="pickup")
    with pytest.raises(Forbidden):
        L.handle(order, AssignCourier(1), now=T0)
    L.handle(order, Ready(), now=T0)
    assert order.deadline_limit == "customer_pickup"
    L.handle(order, PickUp(), now=T0)
    assert order.state == lc.COMPLETED


@pytest.mark.parametrize("limit, setup, minutes", [
    ("confirmation", [], 5),
    ("preparation", ["confirm"], 20),
    ("courier_pickup", ["ready"], 15),
    ("delivery", ["ready", "courier", "out"], 45),
])
def test_overdue_is_flagged_once_then_escalated_once(limit, setup, minutes):
    order = new_order()
    for step in setup:
        {"confirm": lambda: L.handle(order, Confirm(), now=T0),
         "ready": lambda: L.handle(order, Ready(), now=T0),
         "courier": lambda: L.handle(order, AssignCourier(1), now=T0),
         "out": lambda: L.handle(order, PostCourierStatus("dasher_out_for_delivery"), now=T0)}[step]()
    deadline = T0 + timedelta(minutes=minutes)
    assert L.handle(order, CheckOverdue(), now=deadline - timedelta(seconds=1)) == []
    [flag] = L.handle(order, CheckOverdue(), now=deadline + timedelta(seconds=30))
    assert (flag.event, flag.detail["limit"], flag.detail["late_by_seconds"]) == ("overdue", limit, 30)
    assert L.handle(order, CheckOverdue(), now=deadline + timedelta(minutes=1)) == []
    [again] = L.handle(order, CheckOverdue(), now=T0 + timedelta(minutes=2 * minutes))
    assert again.event == "overdue_escalated" and order.overdue_level == 2
    assert L.handle(order, CheckOverdue(), now=T0 + timedelta(days=1)) == []


def test_the_next_step_clears_the_flag_and_sets_a_new_deadline():
    order = new_order()
    L.handle(order, CheckOverdue(), now=T0 + timedelta(minutes=6))
    [change] = L.handle(order, Confirm(), now=T0 + timedelta(minutes=7))
    assert change.detail["overdue_cleared"] == "confirmation"
    assert (order.overdue_level, order.overdue_limit, order.deadline_limit) == (0, None, "preparation")


# --- properties ----------------------------------------------------------------------

EVENTS = st.sampled_from([
    ("confirm",), ("reject",), ("ready",), ("cancel",), ("assign", 1), ("assign", 2),
    ("courier", "arriving_at_store"), ("courier", "arrived_at_store"),
    ("courier", "dasher_out_for_delivery"), ("courier", "dropoff"), ("picked_up",), ("tick",),
])
RANK = {s: i for i, s in enumerate(lc.PATH)}


def run(order, event, now):
    kind = event[0]
    if kind == "confirm":
        return L.handle(order, Confirm(merchant_supplied_id="R"), now=now)
    if kind == "reject":
        return L.handle(order, Reject(reason="closed"), now=now)
    if kind == "ready":
        return L.handle(order, Ready(merchant_supplied_id="R"), now=now)
    if kind == "cancel":
        return L.handle(order, Cancel(reason="KITCHEN_BUSY", by="onetablet"), now=now)
    if kind == "assign":
        return L.handle(order, AssignCourier(event[1]), now=now)
    if kind == "courier":
        return L.handle(order, PostCourierStatus(event[1]), now=now)
    if kind == "picked_up":
        return L.handle(order, PickUp(), now=now)
    return L.handle(order, CheckOverdue(), now=now)


@settings(max_examples=400, deadline=None)
@given(events=st.lists(EVENTS, max_size=25), pickup=st.booleans(), dup=st.data())
def test_random_event_streams_never_move_backwards(events, pickup, dup):
    """Random events, duplicated and reordered: the state never moves backwards, terminal
    stays terminal, each change is audited once and a repeated event adds nothing."""
    order = new_order(fulfillment_type="pickup" if pickup else "dx_delivery")
    now = T0
    for event in events:
        now += timedelta(minutes=7)
        before = (order.state, order.courier_status, order.version)
        try:
            changes = run(order, event, now)
        except Forbidden as refusal:  # changes nothing but the restaurant data it keeps
            assert (order.state, order.courier_status, order.version) == before[:2] + (
                before[2] + (1 if refusal.kept else 0),)
            continue
        if before[0] in lc.TERMINAL:
            assert order.state == before[0] and not any(c.from_state != c.to_state for c in changes)
        elif order.state in RANK and before[0] in RANK:
            assert RANK[order.state] >= RANK[before[0]]
        # one version step per call that changed something, one audit entry per moved step
        assert order.version == before[2] + (1 if changes else 0)
        moves = [c for c in changes if c.from_state != c.to_state]
        if moves:  # a chain of steps from where the order was, each step audited once
            assert [c.from_state for c in moves] == [before[0]] + [c.to_state for c in moves][:-1]
            assert moves[-1].to_state == order.state
        if event[0] != "tick" and dup.draw(st.booleans()):
            assert run(order, event, now) == [], f"{event} applied twice"


def test_a_picked_up_order_skips_in_transit_which_only_couriers_enter():
    order = new_order(fulfillment_type="pickup")
    L.handle(order, Ready(), now=T0)
    [change] = L.handle(order, PickUp(), now=T0)
    assert (change.event, change.from_state, change.to_state) == ("picked_up", lc.READY, lc.COMPLETED)
    assert order.in_transit_at is None

"""contract §2: each time limit flags its order once, escalates it once at twice the limit,
is audited naming the limit and the delay, is pushed live, and is cleared by the next step.
The clock is app.clock under the test's control; `tick` runs the scheduler job's function once."""
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable, Optional

import pytest
from sqlalchemy import text

from app.services import actions, overdue
from app.infra import live
from app.extensions import db, socketio
from app.domain.lifecycle import Lifecycle
from tests.helpers import order_body, wait_for


class Steps:
    """Moves one order along its path through the real entry points."""

    def __init__(self, app, api, hook, clock, courier):
        self.app, self.api, self.hook, self.clock, self.courier = app, api, hook, clock, courier

    def submitted(self, pickup=False):
        body = order_body(pickup=pickup)
        assert self.api.create(body).status_code == 201
        return body["id"]

    def confirmed(self, prep_minutes=None, pickup=False):
        order_id = self.submitted(pickup)
        self.confirm(order_id, prep_minutes)
        return order_id

    def ready(self, pickup=False):
        order_id = self.confirmed(pickup=pickup)
        self.make_ready(order_id)
        return order_id

    def in_transit(self):
        order_id = self.ready()
        self.courier_status(order_id, "dasher_out_for_delivery")
        return order_id

    def confirm(self, order_id, prep_minutes=None):
        prep = (self.clock.now + timedelta(minutes=prep_minutes)).isoformat() if prep_minutes else None
        assert self.hook.confirm(order_id, prep_time=prep).status_code == 200

    def make_ready(self, order_id):
        assert self.hook.ready(order_id).status_code == 200

    def courier_status(self, order_id, status):
        with self.app.app_context():
            if status == "dasher_out_for_delivery":
                actions.assign_courier(order_id, courier_id=self.courier, actor="staff:dana")
            actions.courier_status(order_id, status=status, actor="staff:dana")

    def picked_up(self, order_id):
        with self.app.app_context():
            actions.picked_up(order_id, actor="staff:dana")


@dataclass(frozen=True)
class Case:
    limit: str
    minutes: float  # the allowed time, with default settings
    wait: Callable[[Steps], str]  # brings a new order to the step that waits
    next_step: Callable[[Steps, str], None]
    next_limit: Optional[str]  # the deadline the next step sets (None: terminal)
    next_minutes: float = 0


CASES = [
    Case("confirmation", 5, Steps.submitted, Steps.confirm, "preparation", 20),
    Case("preparation", 20, Steps.confirmed, Steps.make_ready, "courier_pickup", 15),
    # The restaurant promised 10 minutes: the limit is that plus 5 minutes of grace.
    Case("preparation", 15, lambda s: s.confirmed(prep_minutes=10), Steps.make_ready, "courier_pickup", 15),
    Case("courier_pickup", 15, Steps.ready, lambda s, o: s.courier_status(o, "dasher_out_for_delivery"),
         "delivery", 45),
    Case("customer_pickup", 30, lambda s: s.ready(pickup=True), Steps.picked_up, None),
    Case("delivery", 45, Steps.in_transit, lambda s, o: s.courier_status(o, "dropoff"), None),
]
IDS = ["confirmation", "preparation", "preparation-with-prep_time", "courier_pickup",
       "customer_pickup", "delivery"]


@pytest.fixture
def steps(app, api, hook, menu, frozen_clock, courier):
    return Steps(app, api, hook, frozen_clock, courier)


@pytest.fixture
def pushed(monkeypatch):
    """Every Socket.IO event the app emits, as (event, payload, room)."""
    sent = []
    monkeypatch.setattr(socketio, "emit", lambda event, data, to=None, **kw: sent.append((event, data, to)))
    return sent


def tick(app, clock, **later) -> int:
    clock.advance(**later)
    with app.app_context():
        flagged = overdue.tick()
    live.drain(app)  # the board's cards go out after commit, from the live publisher
    return flagged


def flags(api, order_id):
    return [e for e in api.order(order_id)["timeline"] if e["actor"] == "scheduler"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_an_order_past_its_limit_is_flagged_once_with_the_limit_and_the_delay(app, api, steps, frozen_clock, case):
    order_id = case.wait(steps)
    assert tick(app, frozen_clock, minutes=case.minutes, seconds=-1) == 0
    assert api.order(order_id)["overdue"] is None

    assert tick(app, frozen_clock, seconds=31) == 1
    for _ in range(5):  # the scheduler keeps ticking: no second flag
        assert tick(app, frozen_clock, seconds=15) == 0

    order = api.order(order_id)
    assert (order["overdue"], order["overdue_level"]) == (case.limit, 1)
    [flag] = flags(api, order_id)
    assert (flag["event"], flag["from_state"], flag["to_state"]) == ("overdue", order["state"], order["state"])
    assert flag["detail"]["limit"] == case.limit
    assert flag["detail"]["late_by_seconds"] == 30
    assert flag["detail"]["allowed_minutes"] == case.minutes


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_an_order_still_waiting_at_twice_its_limit_is_escalated_once(app, api, steps, frozen_clock, case):
    order_id = case.wait(steps)
    tick(app, frozen_clock, minutes=case.minutes, seconds=1)
    assert tick(app, frozen_clock, minutes=case.minutes, seconds=-2) == 0  # just short of 2x
    assert tick(app, frozen_clock, seconds=1) == 1
    assert tick(app, frozen_clock, hours=6) == 0  # never again

    order = api.order(order_id)
    assert (order["overdue"], order["overdue_level"]) == (case.limit, 2)
    first, second = flags(api, order_id)
    assert (first["event"], second["event"]) == ("overdue", "overdue_escalated")
    assert second["detail"]["overdue_level"] == [1, 2]
    assert second["detail"]["late_by_seconds"] == case.minutes * 60


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_next_step_clears_the_flag_and_sets_the_next_deadline(app, api, steps, frozen_clock, case):
    order_id = case.wait(steps)
    assert tick(app, frozen_clock, minutes=case.minutes, seconds=1) == 1
    case.next_step(steps, order_id)

    order = api.order(order_id)
    assert (order["overdue"], order["overdue_level"]) == (None, 0)
    assert order["timeline"][-1]["detail"]["overdue_cleared"] == case.limit
    if case.next_limit is None:
        assert order["deadline"] is None
        assert tick(app, frozen_clock, hours=6) == 0
        return
    due = frozen_clock.now + timedelta(minutes=case.next_minutes)
    assert order["deadline"] == {"limit": case.next_limit, "at": due.isoformat()}
    # The old limit's alarm is gone: only the new deadline flags the order again.
    assert tick(app, frozen_clock, minutes=case.next_minutes, seconds=-1) == 0
    assert tick(app, frozen_clock, seconds=1) == 1
    assert [f["detail"]["limit"] for f in flags(api, order_id)] == [case.limit, case.next_limit]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_flag_and_escalation_are_pushed_live_to_the_board_once_each(app, steps, frozen_clock, pushed, case):
    order_id = case.wait(steps)
    live.drain(app)
    pushed.clear()
    tick(app, frozen_clock, minutes=case.minutes, seconds=1)
    tick(app, frozen_clock, seconds=15)
    tick(app, frozen_clock, minutes=case.minutes)
    tick(app, frozen_clock, minutes=1)
    updates = [(data["overdue"], data["overdue_level"]) for event, data, room in pushed
               if event == "order" and data["id"] == order_id and room == "board"]
    assert updates == [(case.limit, 1), (case.limit, 2)]


def test_a_terminal_order_is_never_flagged(app, api, steps, frozen_clock):
    order_id = steps.submitted()
    with app.app_context():
        actions.cancel(order_id, reason="OTHER", details=None, actor="staff:dana")
    assert tick(app, frozen_clock, hours=2) == 0
    assert flags(api, order_id) == []


@pytest.mark.parametrize("due", [4, 5, 6], ids=["fewer-than-two-batches", "batch-plus-one", "two-full-batches"])
def test_one_tick_flags_every_due_order_in_batches_and_chunks(app, api, steps, frozen_clock, monkeypatch, due):
    from app.services import orders

    monkeypatch.setattr(orders, "FIRST_CHUNK", 1)
    monkeypatch.setattr(orders, "CHUNK", 2)
    ids = [steps.submitted() for _ in range(due)]
    frozen_clock.advance(minutes=5, seconds=1)
    with app.app_context():
        assert overdue.tick(batch_size=3) == due
        assert overdue.tick(batch_size=3) == 0  # each once
    live.drain(app)
    assert all(len(flags(api, order_id)) == 1 for order_id in ids)


def test_an_order_that_cannot_be_flagged_does_not_hold_back_the_others(app, api, steps, frozen_clock,
                                                                        monkeypatch, caplog):
    broken, *others = [steps.submitted() for _ in range(3)]
    check = Lifecycle._check_overdue

    def check_or_fail(self, order, command, now):
        if order.id == broken:
            raise RuntimeError("cannot flag this one")
        return check(self, order, command, now)

    monkeypatch.setattr(Lifecycle, "_check_overdue", check_or_fail)
    assert tick(app, frozen_clock, minutes=6) == 2
    assert [len(flags(api, order_id)) for order_id in others] == [1, 1]
    assert f"order {broken} could not be flagged" in caplog.text

    monkeypatch.setattr(Lifecycle, "_check_overdue", check)  # fixed: the next tick catches up
    assert tick(app, frozen_clock, seconds=15) == 1
    assert flags(api, broken)[0]["detail"]["late_by_seconds"] == 75


def test_a_tick_reads_due_orders_through_the_next_alarm_index(app):
    """The tick's query is an index range on next_alarm_at, never a table scan, so it stays
    cheap with 100,000 open orders (bench/overdue.py measures it)."""
    with app.app_context():
        query = overdue.due_query(overdue.clock.now())
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        if db.engine.dialect.name == "postgresql":
            # On a tiny table a scan is cheaper: forbid it, to see that the index can serve.
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = db.session.execute(text(f"EXPLAIN {compiled}")).scalars().all()
            assert any("Index Scan" in line and "ix_orders_next_alarm_at" in line for line in plan), plan
        else:
            plan = [row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
            assert any("USING INDEX ix_orders_next_alarm_at (next_alarm_at<?)" in line for line in plan), plan
        db.session.rollback()


# Flask-SocketIO's test client refuses a message queue; test_scheduler.py covers the queue.
@pytest.mark.parametrize("app_config", [{"REDIS_URL": None}], ids=["in-process"])
def test_a_flag_reaches_a_logged_in_board_over_socketio(app, client, auth, steps, frozen_clock):
    auth.login()
    board = socketio.test_client(app, flask_test_client=client)
    assert board.is_connected()
    order_id = steps.submitted()
    tick(app, frozen_clock, minutes=5, seconds=1)
    received = []

    def flagged():
        received.extend(board.get_received())
        return [m["args"][0] for m in received if m["name"] == "order" and m["args"][0]["id"] == order_id
                and m["args"][0]["overdue"] == "confirmation"]

    [update] = wait_for(flagged)
    assert (update["overdue_level"], update["alarm"]) == (1, True)
    assert "data-overdue" in update["html"]
    board.disconnect()

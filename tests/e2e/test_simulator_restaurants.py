"""The simulator plays restaurants against a real Passline server: signed webhooks that
accept, reject, ready and cancel (each reason code), pause stores and 86 items, and its
misbehaviour — duplicates, reordering, 5xx, slowness — which Passline absorbs."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.domain.lifecycle import CANCEL_REASONS
from app.models import MenuItem, Store
from devtools.restaurants import Restaurant
from devtools.simulator import Behaviour, Simulator
from app.outbox.sender import Worker
from tests.helpers import MENU, ONETABLET_KEY, WEBHOOK_SECRET, order_body, wait_for

KITCHEN = Restaurant("store-1", "Test Burgers", "America/Chicago", MENU)
FAST = dict(confirm_seconds=(0.05, 0.15), prep_minutes=(0.001, 0.003))


def fate_in_id(body):
    """Orders named `o-<fate>-<n>`: the test decides each one's fate."""
    return body["id"].split("-")[1]


@pytest.fixture
def restaurants(app, live_server):
    """Start a simulator playing KITCHEN against the live server, with Passline's outbox
    worker sending to it; `restaurants(**behaviour)` returns the simulator."""
    started = []
    worker = Worker(app, senders=2, name="e2e").start()

    def start(**behaviour):
        simulator = Simulator(api_key=ONETABLET_KEY, webhook_secret=WEBHOOK_SECRET, target=live_server.url,
                              restaurants=[KITCHEN], behaviour=Behaviour(**{**FAST, **behaviour}))
        app.config["ONETABLET_API_URL"] = simulator.start().url
        started.append(simulator)
        assert wait_for(lambda: store_known(app), timeout=10), "menu not pushed"
        return simulator

    yield start
    worker.stop()
    for simulator in started:
        simulator.stop()


def store_known(app):
    with app.app_context():
        return db.session.execute(select(Store).where(Store.merchant_supplied_id == "store-1")).scalar_one_or_none() \
            and db.session.execute(select(MenuItem.id)).first() is not None


def states(api, ids):
    return {i: api.order(i)["state"] for i in ids}


def events(api, order_id):
    return [(e["event"], e["to_state"], e["implied"]) for e in api.order(order_id)["timeline"] if not e["refused"]]


def test_restaurants_accept_reject_ready_and_cancel_with_each_reason_by_signed_webhooks(api, restaurants):
    simulator = restaurants(decide=fate_in_id)
    fates = ["ready", "ready", "reject"] + list(CANCEL_REASONS)
    ids = [f"o-{fate}-{n}" for n, fate in enumerate(fates)]
    for order_id in ids:
        assert api.create(order_body(order_id)).status_code == 201
    expected = {i: {"ready": "ready", "reject": "rejected"}.get(f, "cancelled") for i, f in zip(ids, fates)}
    assert wait_for(lambda: states(api, ids) == expected, timeout=20), states(api, ids)

    assert events(api, "o-ready-0")[:3] == [("submitted", "submitted", False), ("confirmed", "confirmed", False),
                                           ("ready", "ready", False)]
    ready = api.order("o-ready-0")
    assert ready["prep_time"] and ready["merchant_supplied_id"].startswith("POS-")
    assert ready["client_order_id"] == simulator.orders["o-ready-0"].client_order_id
    assert api.order("o-reject-2")["failure_reason"]
    assert {api.order(f"o-{r}-{n}")["cancel_reason"] for n, r in enumerate(fates) if r in CANCEL_REASONS} \
        == set(CANCEL_REASONS)
    assert all(hook.status == 200 for hook in simulator.webhooks)  # every signature accepted


def test_a_restaurant_pauses_its_store_and_86s_an_item_then_brings_them_back(app, restaurants):
    simulator = restaurants(pause_every_minutes=0.001, pause_minutes=(0.01, 0.01),
                            eighty_six_every_minutes=0.001, eighty_six_minutes=(0.01, 0.01), speed=1)

    def seen(kind, value):
        return any(h.path.endswith(kind) and value in str(h.body) and h.status == 200 for h in simulator.webhooks)

    assert wait_for(lambda: seen("/status", "'is_active': False") and seen("/items", "'is_available': False"),
                    timeout=10)
    assert wait_for(lambda: seen("/items", "'is_available': True"), timeout=10)
    pause = next(h for h in simulator.webhooks if h.path.endswith("/status") and not h.body["is_active"])
    assert pause.body["reason"] and pause.body["resume_at"]


def test_duplicate_and_out_of_order_webhooks_are_absorbed(api, restaurants):
    simulator = restaurants(decide=fate_in_id, duplicate_odds=1, reorder_odds=1)
    ids = [f"o-ready-{n}" for n in range(3)]
    for order_id in ids:
        assert api.create(order_body(order_id)).status_code == 201
    assert wait_for(lambda: states(api, ids) == dict.fromkeys(ids, "ready"), timeout=20)
    # The confirmation came after the ready: the step is implied, its prep_time still kept.
    assert wait_for(lambda: all(api.order(i)["prep_time"] for i in ids), timeout=10)
    for order_id in ids:
        assert events(api, order_id)[:3] == [("submitted", "submitted", False), ("confirmed", "confirmed", True),
                                            ("ready", "ready", False)]
    order_hooks = [h for h in simulator.webhooks if h.path.startswith("/orders/")]
    assert len(order_hooks) == 2 * len(ids)  # a confirmation and a ready each, every one sent twice


def test_5xx_and_slow_answers_from_onetablet_are_retried_until_the_order_goes_through(app, api, restaurants):
    app.config.update(OUTBOX_BASE_DELAY_SECONDS=0.05, OUTBOX_MAX_DELAY_SECONDS=0.2, OUTBOX_POLL_SECONDS=0.1,
                      OUTBOX_READ_TIMEOUT_SECONDS=0.3)
    simulator = restaurants(decide=fate_in_id, error_odds=0.5, slow_odds=0.3, slow_seconds=0.6, seed=4)
    ids = [f"o-ready-{n}" for n in range(6)]
    for order_id in ids:
        assert api.create(order_body(order_id)).status_code == 201
    assert wait_for(lambda: states(api, ids) == dict.fromkeys(ids, "ready"), timeout=30), states(api, ids)
    answers = {call.status for call in simulator.calls}
    assert 503 in answers and 201 in answers
    assert sorted(simulator.orders) == sorted(ids)


def test_a_restarted_simulator_adopts_the_orders_onetablet_already_took(app, api, restaurants, live_server):
    from app.services import actions
    from app.models import Courier, Order

    forgetful = restaurants(decide=fate_in_id, confirm_seconds=(3600, 3600))  # would answer in an hour
    assert api.create(order_body("o-ready-1")).status_code == 201
    assert wait_for(lambda: api.order("o-ready-1")["client_order_id"], timeout=10)
    forgetful.stop()

    restarted = Simulator(api_key=ONETABLET_KEY, webhook_secret=WEBHOOK_SECRET, target=live_server.url,
                          restaurants=[KITCHEN], behaviour=Behaviour(**FAST, decide=fate_in_id),
                          port=forgetful.port).start(push_menus=False)
    try:
        with app.app_context():
            order = db.session.get(Order, "o-ready-1")
            restarted.adopt(order.payload, order.client_order_id, order.state)
            courier = Courier(name="Ana Lima", phone="+15550000001")
            db.session.add(courier)
            db.session.commit()
            actions.assign_courier("o-ready-1", courier_id=courier.id, actor="staff:dana")
        assert wait_for(lambda: api.order("o-ready-1")["state"] == "ready", timeout=10)
        assert wait_for(lambda: restarted.calls_to("/delivery-status"), timeout=10)
        assert [c.status for c in restarted.calls_to("/delivery-status")] == [200]
    finally:
        restarted.stop()

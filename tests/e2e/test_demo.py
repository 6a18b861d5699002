"""The demo path end to end: customers order through the real API, the outbox sends the
orders to the simulator, its restaurants answer by signed webhooks, the demo dispatcher
rides couriers — real orders through every state. And `flask --app wsgi demo` itself, as a
newcomer runs it, until Ctrl-C."""
import os
import random
import re
import signal
import subprocess
import sys
import tempfile

import pytest
import requests

from devtools import demo
from app.domain.lifecycle import TERMINAL
from devtools.restaurants import RESTAURANTS
from devtools.simulator import Behaviour, Simulator
from app.outbox.sender import Worker
from tests.helpers import ONETABLET_KEY, PLATFORM_KEY, WEBHOOK_SECRET, free_port, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAN = [("ready", "mx_fleet_delivery"), ("ready", "dx_delivery"), ("ready", "pickup"),
        ("reject", "pickup"), ("KITCHEN_BUSY", "mx_fleet_delivery")]


def fate(body):
    """Orders named `o-<fate>-<n>` meet that fate; the generator's own orders are readied."""
    return body["id"].split("-")[1] if body["id"].startswith("o-") else "ready"


def test_simulated_restaurants_customers_and_dispatcher_move_real_orders_through_every_state(
        app, live_server, api):
    with app.app_context():
        demo.seed(RESTAURANTS[:2], demo.COURIERS[:3])
    worker = Worker(app, senders=2, name="demo-e2e").start()
    simulator = Simulator(api_key=ONETABLET_KEY, webhook_secret=WEBHOOK_SECRET, target=live_server.url,
                          restaurants=RESTAURANTS[:2], behaviour=Behaviour(
                              speed=600, confirm_seconds=(30, 60), prep_minutes=(1, 2), decide=fate, seed=1))
    app.config["ONETABLET_API_URL"] = simulator.start().url
    dispatcher = demo.Dispatcher(app, speed=600, tick=0.05, cancel_odds=0, rng=random.Random(2))
    customers = demo.CustomerOrders(live_server.url, PLATFORM_KEY, per_minute=1, restaurants=RESTAURANTS[:2],
                                    rng=random.Random(3))
    try:
        kitchen = RESTAURANTS[0]
        assert wait_for(lambda: api.get("x").status_code == 404 and  # Passline answers
                        simulator.webhooks and all(h.status == 200 for h in simulator.webhooks), timeout=10)
        dispatcher.start()
        rng = random.Random(4)
        ids = []
        for n, (outcome, fulfillment) in enumerate(PLAN):
            body = demo.customer_order(kitchen, rng, order_id=f"o-{outcome}-{n}", fulfillment=fulfillment)
            assert customers.http.post(customers.url, json=body, headers=customers.headers).status_code == 201
            ids.append(body["id"])
        placed = customers.place_one()  # the generator's own order, through the same API
        assert placed is not None
        ids.append(placed["id"])

        def final_states():
            found = {i: api.order(i)["state"] for i in ids}
            return found if all(s in TERMINAL for s in found.values()) else None

        finals = wait_for(final_states, timeout=45)
        assert finals, {i: api.order(i)["state"] for i in ids}
    finally:
        dispatcher.stop()
        simulator.stop()
        worker.stop()

    assert [finals[i] for i in ids[:5]] == ["completed", "completed", "completed", "rejected", "cancelled"]
    passed = {e["to_state"] for i in ids for e in api.order(i)["timeline"]}
    assert passed >= {"submitted", "confirmed", "ready", "in_transit", "completed", "rejected", "cancelled"}

    delivered = api.order(ids[0])
    assert delivered["courier"] and delivered["courier_status"] == "dropoff"
    assert [e["actor"] for e in delivered["timeline"] if e["event"] == "courier_status"] \
        == ["staff:demo-dispatcher"] * 4
    # OneTablet heard every courier status, with its own id for the order.
    statuses = [c.body["dasher_status"] for c in simulator.calls
                if c.path == f"/orders/{ids[0]}/delivery-status" and c.status == 200]
    assert statuses == ["dasher_confirmed", "arriving_at_store", "arrived_at_store",
                        "dasher_out_for_delivery", "dropoff"]
    assert [e["event"] for e in api.order(ids[2])["timeline"]][-1] == "picked_up"
    assert all(not api.order(i)["failed_calls"] for i in ids)


@pytest.mark.slow
def test_flask_demo_comes_alive_with_a_login_and_orders_and_stops_on_ctrl_c(tmp_path):
    port, sim_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OVERDUE_", "PASSLINE_", "OUTBOX_", "FLASK_",
                                                                   "ONETABLET_", "REDIS_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/demo.sqlite3", PLATFORM_API_KEY=PLATFORM_KEY,
               PYTHONUNBUFFERED="1")
    log = tempfile.NamedTemporaryFile(prefix="passline-demo-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "demo", "--port", str(port), "--sim-port", str(sim_port),
         "--speed", "600", "--orders-per-minute", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def output():
        with open(log.name, errors="replace") as f:
            return f.read()

    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {PLATFORM_KEY}"}
    try:
        first_order = wait_for(lambda: re.search(r"^  order (\S+):", output(), re.M), timeout=60)
        assert first_order, output()
        order_url = f"{base}/api/orders/{first_order.group(1)}"
        assert wait_for(lambda: requests.get(order_url, headers=headers, timeout=5).json()["state"] in TERMINAL,
                        timeout=60), requests.get(order_url, headers=headers, timeout=5).json()
        assert requests.get(base + "/healthz", timeout=5).status_code == 200

        password = re.search(r"login:\s+demo / (\S+)", output()).group(1)
        browser = requests.Session()
        page = browser.get(base + "/login", timeout=5).text
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        login = browser.post(base + "/login", data={"username": "demo", "password": password, "csrf_token": token},
                             allow_redirects=False, timeout=5)
        assert login.status_code == 303, login.text
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    log.close()
    assert code == 0, output()
    assert "demo stopped" in output()
    assert "Traceback" not in output(), output()

"""`flask --app wsgi demo`: Passline alive on a laptop, with a simulated OneTablet, simulated
customers and a simulated dispatcher.

One process runs it all: migrations on the SQLite file under instance/, a `demo` manager
login (printed), Passline on 127.0.0.1:5000 with its outbox worker and scheduler, the
OneTablet simulator (devtools/simulator.py) playing the demo restaurants, a stream of
customer orders through the real `POST /api/orders`, and a dispatcher bot that assigns
couriers and posts their statuses through app.actions, so orders walk through every state.
Restaurant and courier time runs `--speed` times faster than real time (the overdue limits
too, unless set). Ctrl-C (or SIGTERM) stops everything.
"""
from __future__ import annotations

import logging
import os
import random
import secrets
import signal
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import click
import requests
from flask import current_app
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.services import actions
from app.extensions import db
from app.domain.lifecycle import CONFIRMED, DELIVERY_TYPES, IN_TRANSIT, READY, TERMINAL
from app.models import Courier, Order, Store, User
from .restaurants import RESTAURANTS, Restaurant
from app.infra.signing import new_secret

log = logging.getLogger(__name__)

DEMO_USER = "demo"
DISPATCHER = "staff:demo-dispatcher"
COURIERS = [("Maya Okafor", "+15551230101"), ("Luis Herrera", "+15551230102"), ("Priya Raman", "+15551230103"),
            ("Jonah Weiss", "+15551230104"), ("Aiko Tanaka", "+15551230105"), ("Sam O'Connell", "+15551230106"),
            ("Fatima Diallo", "+15551230107"), ("Marek Nowak", "+15551230108")]
FIRST_NAMES = ("Olivia", "Noah", "Amara", "Diego", "Mei", "Ethan", "Zara", "Kwame", "Sofia", "Ravi", "Hannah",
               "Tomás", "Leila", "Oscar", "Ines", "Yusuf")
LAST_NAMES = ("Nguyen", "Smith", "García", "Kowalski", "Okonkwo", "Chen", "Müller", "Patel", "Johnson", "Rossi",
              "Haddad", "Silva")
STREETS = ("Bedford Ave", "W 18th St", "Irving St", "Commercial St", "Larimer St", "N Milwaukee Ave", "Valencia St")
OVERDUE = ("CONFIRMATION", "PREPARATION", "PREPARATION_GRACE", "COURIER_PICKUP", "CUSTOMER_PICKUP", "DELIVERY")


# --- the demo's data ----------------------------------------------------------------------

def customer_order(restaurant: Restaurant, rng: random.Random, *, order_id: str | None = None,
                   fulfillment: str | None = None) -> dict:
    """A real-looking customer order for `restaurant`, as the customer app would send it."""
    fulfillment = fulfillment or rng.choices(["mx_fleet_delivery", "dx_delivery", "pickup"], [5, 2, 3])[0]
    picks = rng.sample(restaurant.items(), k=min(len(restaurant.items()), rng.randint(1, 4)))
    items = [{"merchant_supplied_id": item["merchant_supplied_id"], "name": item["name"],
              "quantity": rng.choice([1, 1, 1, 2]), "price": item["price"]} for item in picks]
    subtotal = sum(item["quantity"] * item["price"] for item in items)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    body = {
        "id": order_id or f"demo-{uuid.uuid4().hex[:12]}",
        "store_order_cart_id": f"cart-{uuid.uuid4().hex[:8]}",
        "delivery_short_code": "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6)),
        "store": {"merchant_supplied_id": restaurant.merchant_supplied_id, "provider_type": "passline",
                  "timezone": restaurant.timezone, "store_business": {"auto_release_enabled": True}},
        "consumer": {"id": rng.randint(10_000, 99_999), "first_name": first, "last_name": last,
                     "email": f"{first.lower()}.{rng.randint(1, 999)}@example.com",
                     "phone": f"+1555{rng.randint(1_000_000, 9_999_999)}"},
        "subtotal": subtotal,
        "tax": round(subtotal * 0.08875),
        "tip": rng.choice([0, 200, 300, 500]),
        "is_pickup": fulfillment == "pickup",
        "fulfillment_type": fulfillment,
        "estimated_pickup_time": (datetime.now(timezone.utc) + timedelta(minutes=25)).isoformat(),
        "categories": [{"name": "Order", "items": items}],
    }
    if fulfillment != "pickup":
        body["delivery_fee"] = 299
        body["delivery_address"] = {"street": f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
                                    "instructions": rng.choice(["", "Leave at the door", "Ring twice"])}
    return body


def seed(restaurants=RESTAURANTS, couriers=COURIERS) -> None:
    """The demo's stores (name, timezone) and couriers; menus come from the simulator."""
    for restaurant in restaurants:
        store = db.session.execute(select(Store).where(
            Store.merchant_supplied_id == restaurant.merchant_supplied_id)).scalar_one_or_none()
        if store is None:
            store = Store(merchant_supplied_id=restaurant.merchant_supplied_id)
            db.session.add(store)
        store.name, store.timezone = restaurant.name, restaurant.timezone
    known = set(db.session.execute(select(Courier.name)).scalars())
    db.session.add_all(Courier(name=name, phone=phone) for name, phone in couriers if name not in known)
    db.session.commit()


def demo_login() -> str:
    """The `demo` manager account, with a new password each run; returns the password."""
    password = secrets.token_urlsafe(9)
    user = db.session.execute(select(User).where(User.username == DEMO_USER)).scalar_one_or_none()
    if user is None:
        from app.services import accounts

        accounts.create_user(DEMO_USER, role="manager", password=password)
    else:
        user.password_hash, user.role, user.is_enabled = generate_password_hash(password), "manager", True
    db.session.commit()
    return password


# --- simulated people ---------------------------------------------------------------------

class _Loop(threading.Thread):
    def __init__(self, name: str):
        super().__init__(name=name, daemon=True)
        self.stopped = threading.Event()

    def stop(self, timeout: float = 10) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join(timeout)


class CustomerOrders(_Loop):
    """Customers ordering through the real API, `per_minute` on average (Poisson)."""

    def __init__(self, base_url: str, api_key: str, *, per_minute: float, restaurants=RESTAURANTS,
                 rng: random.Random | None = None, on_order=None):
        super().__init__("demo-customers")
        self.url = base_url.rstrip("/") + "/api/orders"
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.per_minute, self.restaurants = per_minute, list(restaurants)
        self.rng = rng or random.Random()
        self.on_order = on_order or (lambda body, status: None)
        self.http = requests.Session()

    def run(self) -> None:
        while not self.stopped.wait(self.rng.expovariate(self.per_minute / 60)):
            try:
                self.place_one()
            except requests.RequestException as error:
                if not self.stopped.is_set():  # not the demo shutting down
                    log.warning("demo customer could not reach Passline: %s", error)

    def place_one(self) -> dict | None:
        """One order; a paused store or an 86'd item sends the customer elsewhere."""
        for restaurant in self.rng.sample(self.restaurants, k=min(3, len(self.restaurants))):
            body = customer_order(restaurant, self.rng)
            response = self.http.post(self.url, json=body, headers=self.headers, timeout=10)
            self.on_order(body, response.status_code)
            if response.status_code == 201:
                return body
        return None


class Dispatcher(_Loop):
    """A dispatcher doing the job through app.actions, as staff would from the board:
    assigns a free courier to each delivery order once it is confirmed, posts the courier's
    statuses as they ride, marks pickup orders collected, and now and then cancels an
    order for a customer who called. Delays are courier minutes divided by `speed`."""

    STEPS = {  # courier status reached -> (next status, minutes it takes)
        "dasher_confirmed": ("arriving_at_store", (1, 3)),
        "arriving_at_store": ("arrived_at_store", (3, 8)),
        "arrived_at_store": ("dasher_out_for_delivery", (1, 3)),  # once the food is ready
        "dasher_out_for_delivery": ("dropoff", (8, 25)),
    }

    def __init__(self, app, *, speed: float, tick: float = 1.0, cancel_odds: float = 0.02,
                 rng: random.Random | None = None):
        super().__init__("demo-dispatcher")
        self.app, self.speed, self.tick, self.cancel_odds = app, speed, tick, cancel_odds
        self.rng = rng or random.Random()
        self.due: dict[str, float] = {}  # order id -> when its next step may happen (monotonic)

    def run(self) -> None:
        while not self.stopped.wait(self.tick):
            with self.app.app_context():
                try:
                    self.step()
                except Exception:  # the demo goes on; the next tick tries again
                    db.session.rollback()
                    log.exception("demo dispatcher step failed")
                finally:
                    db.session.remove()

    def _wait(self, minutes: tuple[float, float]) -> float:
        return time.monotonic() + self.rng.uniform(*minutes) * 60 / self.speed

    def step(self) -> int:
        """Act on every open order whose next step is due; returns how many actions were taken."""
        open_orders = db.session.execute(
            select(Order.id, Order.state, Order.fulfillment_type, Order.courier_id, Order.courier_status)
            .where(Order.state.in_((CONFIRMED, READY, IN_TRANSIT))).order_by(Order.created_at)).all()
        done = 0
        now = time.monotonic()
        for order_id, state, fulfillment, courier_id, courier_status in open_orders:
            due = self.due.setdefault(order_id, self._wait((0.5, 2)))
            if due > now:
                continue
            try:
                done += self._act(order_id, state, fulfillment, courier_id, courier_status)
            except actions.ActionError as refusal:  # the order moved meanwhile: look again next tick
                log.info("demo dispatcher: %s: %s", order_id, refusal)
        for order_id in set(self.due) - {row[0] for row in open_orders}:
            del self.due[order_id]
        return done

    def _act(self, order_id, state, fulfillment, courier_id, courier_status) -> int:
        if state == CONFIRMED and self.rng.random() < self.cancel_odds:
            actions.cancel(order_id, reason="OTHER", details="Customer called to cancel", actor=DISPATCHER)
            return 1
        if fulfillment not in DELIVERY_TYPES:
            if state == READY:
                actions.picked_up(order_id, actor=DISPATCHER)
                return 1
            self.due[order_id] = self._wait((1, 3))
            return 0
        if courier_id is None:
            courier = self._free_courier()
            if courier is None:
                self.due[order_id] = self._wait((1, 2))
                return 0
            actions.assign_courier(order_id, courier_id=courier, actor=DISPATCHER)
            self.due[order_id] = self._wait(self.STEPS["dasher_confirmed"][1])
            return 1
        next_status, _ = self.STEPS.get(courier_status, (None, None))
        if next_status is None or (next_status == "dasher_out_for_delivery" and state != READY):
            self.due[order_id] = self._wait((0.5, 1))  # waiting for the kitchen
            return 0
        actions.courier_status(order_id, status=next_status, actor=DISPATCHER)
        following = self.STEPS.get(next_status)
        self.due[order_id] = self._wait(following[1] if following else (1, 2))
        return 1

    def _free_courier(self):
        busy = select(Order.courier_id).where(Order.courier_id.is_not(None), Order.state.not_in(TERMINAL))
        free = db.session.execute(select(Courier.id).where(Courier.is_active, Courier.id.not_in(busy))).scalars().all()
        return self.rng.choice(free) if free else None


# --- the command --------------------------------------------------------------------------

def _settings(app, *, port: int, sim_port: int, speed: float) -> dict:
    """What the demo needs that the environment did not say: local keys, the simulator's
    URL, and time limits on the demo's clock."""
    config, generated = app.config, {}
    wanted = {"ONETABLET_API_URL": f"http://127.0.0.1:{sim_port}", "ONETABLET_API_KEY": secrets.token_urlsafe(24),
              "ONETABLET_WEBHOOK_SECRET": new_secret(), "PLATFORM_API_KEY": secrets.token_urlsafe(24)}
    for name, value in wanted.items():
        if not config.get(name):
            config[name] = generated[name] = value
    for limit in OVERDUE:
        name = f"OVERDUE_{limit}_MINUTES"
        if not os.environ.get(name):
            config[name] = config[name] / speed
    if not os.environ.get("OVERDUE_CHECK_SECONDS"):
        config["OVERDUE_CHECK_SECONDS"] = min(config["OVERDUE_CHECK_SECONDS"], 5)
    return generated


def _wait_until_up(url: str, stopped: threading.Event, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stopped.is_set():
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        stopped.wait(0.2)
    return False


def register(app) -> None:
    @app.cli.command("demo")
    @click.option("--port", type=int, default=5000, show_default=True)
    @click.option("--sim-port", type=int, default=5050, show_default=True, help="the OneTablet simulator's API")
    @click.option("--orders-per-minute", type=float, default=4, show_default=True)
    @click.option("--speed", type=float, default=10, show_default=True,
                  help="restaurant and courier time per real time")
    @click.option("--chaos/--no-chaos", default=True, show_default=True,
                  help="the simulator sometimes duplicates or reorders webhooks and answers 503")
    def demo_command(port, sim_port, orders_per_minute, speed, chaos):
        """Run Passline with a simulated OneTablet, customers and dispatcher (contract §6)."""
        run(current_app._get_current_object(), port=port, sim_port=sim_port,
            orders_per_minute=orders_per_minute, speed=speed, chaos=chaos)


def run(app, *, port: int, sim_port: int, orders_per_minute: float, speed: float, chaos: bool) -> None:
    import flask_migrate

    from app import background
    from app.extensions import socketio
    from .simulator import Behaviour, Simulator

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    generated = _settings(app, port=port, sim_port=sim_port, speed=speed)
    base_url = f"http://127.0.0.1:{port}"
    flask_migrate.upgrade()
    seed()
    password = demo_login()
    # Now and then a kitchen is slower than the guide's 5 minutes: the board shows it overdue.
    behaviour = Behaviour(speed=speed, confirm_seconds=(45, 330), pause_every_minutes=40, eighty_six_every_minutes=25,
                          duplicate_odds=0.05 if chaos else 0, reorder_odds=0.03 if chaos else 0,
                          error_odds=0.03 if chaos else 0)
    simulator = Simulator(api_key=app.config["ONETABLET_API_KEY"], target=base_url,
                          webhook_secret=app.config["ONETABLET_WEBHOOK_SECRET"], restaurants=RESTAURANTS,
                          behaviour=behaviour, port=sim_port).start(push_menus=False)
    for order in db.session.execute(select(Order).where(Order.state.not_in(TERMINAL),
                                                        Order.client_order_id.is_not(None))).scalars():
        simulator.adopt(order.payload, order.client_order_id, order.state)  # left open by the last run
    db.session.rollback()
    background.start(app)
    customers = CustomerOrders(base_url, app.config["PLATFORM_API_KEY"], per_minute=orders_per_minute,
                               on_order=_echo_order)
    dispatcher = Dispatcher(app, speed=speed)
    stopped = threading.Event()

    def bring_to_life():
        if not _wait_until_up(base_url, stopped):
            return
        simulator.push_menus()
        time.sleep(1)  # let the menus land before the first customer orders
        customers.start()
        dispatcher.start()

    threading.Thread(target=bring_to_life, name="demo-start", daemon=True).start()
    click.echo(f"""
Passline demo — {base_url}
  login:      {DEMO_USER} / {password}   (manager)
  simulator:  {simulator.url} (OneTablet API), restaurants: {', '.join(r.name for r in RESTAURANTS)}
  customers:  ~{orders_per_minute:g} orders a minute through POST {base_url}/api/orders
  clock:      restaurants and couriers run {speed:g}x real time
  API key:    PLATFORM_API_KEY={app.config['PLATFORM_API_KEY']}{' (generated)' if 'PLATFORM_API_KEY' in generated else ''}
  try:        curl -H "Authorization: Bearer $PLATFORM_API_KEY" {base_url}/api/orders/<id>
Ctrl-C stops everything.
""")
    # Ctrl-C and a process manager's stop both end the demo cleanly. SIGINT is set too: a
    # shell starts background jobs with it ignored, and Python then never raises on it.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    previous_int = signal.signal(signal.SIGINT, _interrupt)
    os.environ.pop("FLASK_RUN_FROM_CLI", None)  # else Flask ignores app.run() inside a CLI command
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a demo, not a production deployment
    try:
        socketio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, use_reloader=False,
                     log_output=False)
    except KeyboardInterrupt:
        pass
    finally:
        # A second SIGTERM (make and timeout each send one) must not cut the clean-up short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stopped.set()
        _stop_all(app, customers, dispatcher, simulator)
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
        click.echo("demo stopped")


def _echo_order(body: dict, status: int) -> None:
    if status == 201:
        click.echo(f"  order {body['id']}: {body['store']['merchant_supplied_id']}, {body['fulfillment_type']}")


def _interrupt(*_):
    raise KeyboardInterrupt


def _stop_all(app, customers, dispatcher, simulator) -> None:
    """Tell every part to stop first, then wait for each briefly: their threads are
    daemons, so one busy with a call in flight cannot hold the exit for long."""
    from app.outbox import sender as outbox_sender

    customers.stopped.set()
    dispatcher.stopped.set()
    scheduler = app.extensions.get("passline_scheduler")
    if scheduler is not None and scheduler.running:
        scheduler.shutdown(wait=False)
    outbox_sender.stop(timeout=5)
    simulator.stop()
    customers.stop(timeout=2)
    dispatcher.stop(timeout=2)

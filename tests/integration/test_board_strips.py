"""The attention strip and the courier panel's list are pushed, not pulled (issue 18): the
live publisher renders each once per burst of committed changes, for every board, and
emits it as its own event ("attention", "couriers": {"html": ...}); the attention strip
also every FRESH_SECONDS while a board is connected, changes or not."""
import re
import time

import pytest

from app.infra import live
from app.services import actions, overdue
from app.extensions import db, socketio
from app.models import Order
from tests.helpers import add_couriers, order_body, wait_for

pytestmark = pytest.mark.usefixtures("fast_passwords")
IN_PROCESS = [{"REDIS_URL": None}]  # Flask-SocketIO's test client refuses a message queue


def strips_pushed(pushed, name):
    return [data["html"] for event, data in pushed if event == name]


@pytest.fixture
def renders(app, monkeypatch):
    """How many times each strip was rendered: {name: [monotonic time of each render]}."""
    counted = {name: [] for name in live.of(app).strips}

    def counting(name, render):
        def wrapped():
            counted[name].append(time.monotonic())
            return render()
        return wrapped

    strips = {name: strip._replace(render=counting(name, strip.render)) for name, strip in live.of(app).strips.items()}
    monkeypatch.setattr(live.of(app), "strips", strips)
    return counted


def new_order(api) -> str:
    body = order_body()
    assert api.create(body).status_code == 201
    return body["id"]


def load(panel: str, courier_id: int) -> int:
    return int(re.search(rf'data-courier-id="{courier_id}"\s+data-load="(\d+)"', panel).group(1))


def board_events(board, received, name):
    received.extend(board.get_received())
    return [m["args"][0] for m in received if m["name"] == name]


@pytest.mark.parametrize("app_config", IN_PROCESS, ids=["in-process"])
def test_an_order_flagged_overdue_reaches_the_board_socket_as_one_attention_strip_naming_it(
        app, client, auth, api, menu, frozen_clock):
    auth.login()
    order_id = new_order(api)
    board = socketio.test_client(app, flask_test_client=client)
    assert board.is_connected()
    live.drain(app)
    board.get_received()
    frozen_clock.advance(minutes=5, seconds=1)  # past the confirmation limit
    with app.app_context():
        assert overdue.tick() == 1  # set-based: the publisher builds the card, then the strip
    received = []
    [strip] = wait_for(lambda: board_events(board, received, "attention"), timeout=5)  # no drain: it goes by itself
    assert "1 overdue" in strip["html"] and order_id in strip["html"]
    assert live.drain(app)
    assert len(board_events(board, received, "attention")) == 1  # one for the burst, not one per card
    assert board_events(board, received, "couriers") == []  # no courier involved
    board.disconnect()


def test_a_courier_assigned_pushes_the_panel_with_the_load_committed(app, api, hook, menu, pushed):
    ids = add_couriers(app, "Jonah Weiss", "Fatima Diallo")
    order_id = new_order(api)
    hook.confirm(order_id)
    live.drain(app)
    pushed.clear()
    with app.app_context():
        actions.assign_courier(order_id, courier_id=ids["Fatima"], actor="staff:dana")
    assert live.drain(app)
    [panel] = strips_pushed(pushed, "couriers")
    assert (load(panel, ids["Fatima"]), load(panel, ids["Jonah"])) == (1, 0)
    assert order_id in panel
    assert len(strips_pushed(pushed, "attention")) == 1


def test_a_change_without_a_courier_leaves_the_panel_alone(app, api, menu, pushed):
    live.drain(app)
    pushed.clear()
    new_order(api)
    assert live.drain(app)
    assert len(strips_pushed(pushed, "attention")) == 1 and strips_pushed(pushed, "couriers") == []


def test_a_courier_deactivated_pushes_both_the_panel_and_the_strip_listing_their_orders(
        app, api, hook, menu, staff, pushed):
    ids = add_couriers(app, "Jonah Weiss")
    order_id = new_order(api)
    hook.confirm(order_id)
    with app.app_context():
        actions.assign_courier(order_id, courier_id=ids["Jonah"], actor="staff:dana")
    dispatcher = staff.login("dispatcher")
    live.drain(app)
    pushed.clear()
    assert dispatcher.post(f"/couriers/{ids['Jonah']}/deactivate", {"confirm": "yes"}, htmx=True).status_code == 200
    assert live.drain(app)
    [strip], [panel] = strips_pushed(pushed, "attention"), strips_pushed(pushed, "couriers")
    assert 'data-attention="inactive-courier"' in strip and order_id in strip and "Jonah Weiss" in strip
    assert "data-no-courier" in panel  # nobody active any more


def test_a_rolled_back_change_pushes_no_strip(app, submitted, pushed):
    from app.services import orders
    from app.domain.lifecycle import Cancel

    live.drain(app)
    pushed.clear()
    with app.app_context():
        orders.apply(orders.get_for_update(submitted), Cancel(reason="OTHER", by="staff:dana"), actor="staff:dana")
        db.session.rollback()
    assert live.drain(app)
    assert pushed == []


def test_a_burst_of_changes_renders_each_strip_once_not_once_per_change(app, api, hook, menu, pushed, renders,
                                                                        monkeypatch):
    ids = add_couriers(app, "Jonah Weiss")
    orders = [new_order(api) for _ in range(10)]
    live.drain(app)
    pushed.clear()
    for name in renders:
        renders[name].clear()
    # However long this machine takes for the burst, it stays one burst.
    monkeypatch.setattr(live, "QUIET_SECONDS", 60.0)
    monkeypatch.setattr(live, "STRIP_GAP_SECONDS", 60.0)
    for order_id in orders:
        hook.confirm(order_id)
        with app.app_context():
            actions.assign_courier(order_id, courier_id=ids["Jonah"], actor="staff:dana")
    assert live.drain(app)  # the burst's strips go now
    assert {name: len(times) for name, times in renders.items()} == {"attention": 1, "couriers": 1}
    assert len(strips_pushed(pushed, "attention")) == len(strips_pushed(pushed, "couriers")) == 1
    [panel] = strips_pushed(pushed, "couriers")
    assert load(panel, ids["Jonah"]) == 10  # rendered after the last change of the burst


def test_strips_go_a_moment_after_a_change_and_at_most_once_a_second_under_a_stream_of_changes(
        app, pushed, renders):
    """Published straight to the publisher (no database): a change every 50 ms for 2.2 s."""
    publisher = live.of(app).publisher
    live.drain(app)
    for name in renders:
        renders[name].clear()
    first = time.monotonic()
    publisher.publish([("courier", {"id": 1, "is_active": True})], [])
    assert wait_for(lambda: renders["couriers"], timeout=5)
    assert renders["couriers"][0] - first < live.QUIET_SECONDS + 0.5  # a lone change: once it is quiet
    renders["couriers"].clear()

    started = time.monotonic()
    while time.monotonic() - started < 2.2:
        publisher.publish([("courier", {"id": 1, "is_active": True})], [])
        time.sleep(0.05)  # the stream itself, not a wait for the result
    ended = time.monotonic()
    assert wait_for(lambda: renders["couriers"][-1] > ended, timeout=5)  # the last changes' strip, by itself
    times = list(renders["couriers"])
    assert 2 <= len(times) <= 4  # about one a second, not 44
    assert times[0] - started < live.STRIP_GAP_SECONDS + 0.5  # never later than ~1 s after the burst began
    assert all(b - a >= live.STRIP_GAP_SECONDS - 0.05 for a, b in zip(times, times[1:]))


def test_a_strip_that_cannot_be_rendered_does_not_stop_the_other(app, api, hook, menu, pushed, monkeypatch):
    def broken():
        raise RuntimeError("template bug")

    strips = dict(live.of(app).strips, couriers=live.of(app).strips["couriers"]._replace(render=broken))
    monkeypatch.setattr(live.of(app), "strips", strips)
    live.drain(app)
    pushed.clear()
    live.of(app).publisher.publish([("courier", {"id": 1, "is_active": False})], [])
    assert live.drain(app)
    assert strips_pushed(pushed, "couriers") == [] and len(strips_pushed(pushed, "attention")) == 1


@pytest.mark.parametrize("app_config", IN_PROCESS, ids=["in-process"])
def test_the_strip_is_pushed_now_and_then_while_a_board_is_connected_without_any_change(
        app, client, auth, submitted, monkeypatch):
    """What changes with time alone (a stopped overdue tick) reaches a board without a poll
    per board: the publisher pushes the strip, one render for all, while boards are open."""
    monkeypatch.setattr(live, "FRESH_SECONDS", 0.3)
    auth.login()
    assert client.get("/").status_code == 200  # a board page: the publisher stays up for its strip
    board = socketio.test_client(app, flask_test_client=client)
    live.drain(app)
    with app.app_context():  # changed without any push
        db.session.get(Order, submitted).overdue_level = 1
        db.session.commit()
    received = []

    def overdue_strip():
        return [s for s in board_events(board, received, "attention") if "1 overdue" in s["html"]]

    assert wait_for(overdue_strip, timeout=5)
    board.disconnect()
    # No board connected any more: the publisher ends (after LINGER_SECONDS) instead of pushing on.
    assert wait_for(lambda: not live.of(app).publisher._running, timeout=live.LINGER_SECONDS + 3)

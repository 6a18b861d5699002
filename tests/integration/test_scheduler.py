"""contract §7: one scheduler, in-process or as `flask --app wsgi scheduler`; and if two run
anyway, each overdue order is still flagged once (the tick's database locks)."""
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import socketio as socketio_client
from sqlalchemy import func, select

from app import background, jobs
from app.services import overdue
from app.extensions import db
from app.models import Order, OrderEvent
from tests.helpers import make_app, order_updates, wait_for
from tests.integration.test_outbox_delivery import place  # n orders through the API

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def flag_counts(app):
    """{(order id, event): audit rows} for the scheduler's rows."""
    with app.app_context():
        rows = db.session.execute(
            select(OrderEvent.order_id, OrderEvent.event, func.count())
            .where(OrderEvent.actor == "scheduler").group_by(OrderEvent.order_id, OrderEvent.event)
        ).all()
        return {(order_id, event): count for order_id, event, count in rows}


@pytest.fixture
def second_app(_database):
    """Another app object on the same database: a second scheduler, as a second process
    would run it (its own engine and connection pool)."""
    from app.infra import live

    other = make_app(_database)
    yield other
    live.drain(other)  # its flags' cards are still being read and pushed: not into the next test
    with other.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("single", [True, False], ids=["tick-lock", "row-locks-only"])
def test_two_schedulers_ticking_at_once_flag_each_overdue_order_once(app, second_app, api, menu,
                                                                       frozen_clock, single):
    ids = place(api, 40)
    start = threading.Barrier(2)

    def scheduler(instance, now):
        with instance.app_context():
            start.wait(timeout=10)
            return overdue.tick(now, batch_size=3, single=single)

    for minutes, event in ((5, "overdue"), (5, "overdue_escalated")):
        now = frozen_clock.advance(minutes=minutes, seconds=1)
        with ThreadPoolExecutor(2) as pool:
            done = [pool.submit(scheduler, a, now) for a in (app, second_app)]
            changed = [f.result(timeout=60) for f in done]
        assert sum(changed) == len(ids)
        counts = flag_counts(app)
        assert {order_id: counts.get((order_id, event)) for order_id in ids} == dict.fromkeys(ids, 1)


def test_the_scheduler_command_runs_the_overdue_job_until_told_to_stop(app, runner, api, menu, frozen_clock):
    [order_id] = place(api, 1)
    frozen_clock.advance(minutes=6)
    app.config["OVERDUE_CHECK_SECONDS"] = 0.05
    result = runner.invoke(args=["scheduler", "--max-ticks", "3"])
    assert result.exit_code == 0, result.output
    assert "overdue every 0.05s" in result.output
    assert "overdue: 1 order(s) changed" in result.output
    assert "stopped after 3 overdue tick(s)" in result.output
    assert flag_counts(app) == {(order_id, "overdue"): 1}


def test_the_scheduler_command_once_runs_each_job_once(app, runner, api, menu, frozen_clock):
    ids = place(api, 3)
    frozen_clock.advance(minutes=11)  # past twice the limit: flagged now, escalated next run
    assert runner.invoke(args=["scheduler", "--once"]).exit_code == 0
    assert set(flag_counts(app)) == {(i, "overdue") for i in ids}
    assert runner.invoke(args=["scheduler", "--once"]).exit_code == 0
    assert set(flag_counts(app)) == {(i, e) for i in ids for e in ("overdue", "overdue_escalated")}


def test_the_scheduler_command_once_exits_only_after_its_flags_are_pushed(app, runner, api, menu, frozen_clock,
                                                                          monkeypatch):
    from app.infra import live
    from app.extensions import socketio

    ids = place(api, 2)
    live.drain(app)
    pushed = []
    slow = live.of(app).order_cards
    monkeypatch.setattr(live.of(app), "order_cards", lambda batch: time.sleep(0.3) or slow(batch))
    monkeypatch.setattr(socketio, "emit",
                        lambda event, data, **kw: pushed.extend(u["id"] for u in order_updates(event, data)))
    frozen_clock.advance(minutes=6)
    assert runner.invoke(args=["scheduler", "--once"]).exit_code == 0
    assert sorted(pushed) == sorted(ids)  # before the command returned


def test_a_serving_process_runs_the_scheduler_in_its_own_thread(app, api, menu, frozen_clock):
    [order_id] = place(api, 1)
    frozen_clock.advance(minutes=6)
    app.config["OVERDUE_CHECK_SECONDS"] = 0.05
    scheduler = jobs.start(app)
    try:
        assert app.extensions["passline_scheduler"] is scheduler and scheduler.running
        assert wait_for(lambda: flag_counts(app) == {(order_id, "overdue"): 1})
    finally:
        scheduler.shutdown(wait=True)


@pytest.mark.parametrize("setting, runs", [("auto", True), ("off", False)])
def test_PASSLINE_SCHEDULER_off_leaves_the_scheduler_to_another_process(app, monkeypatch, setting, runs):
    monkeypatch.setattr(background, "_started", False)
    app.config.update(PASSLINE_SCHEDULER=setting, PASSLINE_OUTBOX_WORKER="off")
    background.start(app)
    scheduler = app.extensions.get("passline_scheduler")
    try:
        assert (scheduler is not None and scheduler.running) is runs
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)


def scheduler_process(database_url, *args, redis_url=None, **popen):
    """`flask --app wsgi scheduler ARGS` in its own process, on the test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OVERDUE_", "PASSLINE_", "REDIS_URL"))}
    env.update(DATABASE_URL=database_url, OVERDUE_CHECK_SECONDS="0.1", **({"REDIS_URL": redis_url} if redis_url else {}))
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


@pytest.mark.slow
def test_a_scheduler_process_stops_cleanly_on_sigterm(app):
    process = scheduler_process(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        assert "scheduler: overdue every 0.1s" in process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "stopped after" in out


@pytest.mark.slow
def test_a_scheduler_process_pushes_its_flags_to_the_boards_another_process_serves(
        app, api, menu, auth, live_server, frozen_clock):
    """The deployment of contract §7: `flask --app wsgi scheduler` in its own process, a board
    connected to a serving process, the change carried by the Redis message queue."""
    if not app.config["REDIS_URL"]:
        pytest.skip("processes share live updates only through REDIS_URL (the message queue)")
    auth.create("dana")
    frozen_clock.advance(minutes=-8)  # submitted 8 minutes ago: the scheduler's clock is real
    [order_id] = place(api, 1)

    http = requests.Session()
    page = http.get(live_server.url + "/login").text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    login = {"username": "dana", "password": "correct horse", "csrf_token": token}
    assert http.post(live_server.url + "/login", data=login, allow_redirects=False).status_code == 303
    updates = queue.Queue()
    board = socketio_client.Client()
    board.on("order", updates.put)
    cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
    board.connect(live_server.url, headers={"Cookie": cookie}, wait_timeout=10)
    try:
        scheduler = scheduler_process(app.config["SQLALCHEMY_DATABASE_URI"], "--max-ticks", "1",
                                      redis_url=app.config["REDIS_URL"])
        out, err = scheduler.communicate(timeout=60)
        assert scheduler.returncode == 0, err
        assert "overdue: 1 order(s) changed" in out

        def pushed():
            while True:
                update = updates.get(timeout=10)
                if update["id"] == order_id and update["overdue"] == "confirmation":
                    return update

        assert pushed()["overdue_level"] == 1
    finally:
        board.disconnect()

"""Boards that reload at once share one render (app/board/reloads.py): whoever asks while a
render of the same board runs gets the next one, which begins after they asked."""
import threading

import pytest

from app.board import reloads


def _in_thread(fn):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", fn()), daemon=True)
    thread.start()
    return thread, result


class _CountedWaits(threading.Event):
    waiting = 0

    def wait(self, timeout=None):
        _CountedWaits.waiting += 1
        return super().wait(timeout)


@pytest.fixture(autouse=True)
def counted(monkeypatch):
    """How many askers wait for a render someone else leads."""
    class Flight(reloads._Flight):
        def __init__(self):
            super().__init__()
            self.done = _CountedWaits()

    _CountedWaits.waiting = 0
    monkeypatch.setattr(reloads, "_Flight", Flight)
    return lambda: _CountedWaits.waiting


def test_askers_during_a_render_share_the_next_one_and_it_begins_after_they_asked(counted):
    shared = reloads.SharedRenders()
    first_started, release_first = threading.Event(), threading.Event()
    state = {"version": 1}
    builds = []

    def build():
        version = state["version"]  # what the render reads when it begins
        builds.append(version)
        if len(builds) == 1:
            first_started.set()
            assert release_first.wait(10)
        return f"board v{version}"

    leader, first = _in_thread(lambda: shared.render("all", build))
    assert first_started.wait(10)
    state["version"] = 2  # committed while the first render runs: it may have missed it
    askers = [_in_thread(lambda: shared.render("all", build)) for _ in range(20)]
    _wait_until(lambda: counted() == 19)  # one leads the second render, 19 wait for it
    release_first.set()
    for thread, _ in [(leader, first), *askers]:
        thread.join(10)
        assert not thread.is_alive()
    assert first["value"] == "board v1"
    assert {result["value"] for _, result in askers} == {"board v2"}  # none got the render that began before it asked
    assert builds == [1, 2]  # twenty askers, one render


def test_different_boards_do_not_share():
    shared = reloads.SharedRenders()
    assert shared.render(("store", "a"), lambda: "a") == "a"
    assert shared.render(("store", "b"), lambda: "b") == "b"
    assert shared._running == {} and shared._boarding == {}  # nothing kept once idle


def test_a_failed_render_fails_its_leader_and_those_waiting_for_it_render_their_own(counted):
    shared = reloads.SharedRenders()
    running, go = threading.Event(), threading.Event()

    def slow():
        running.set()
        assert go.wait(10)
        return "first"

    def failing():
        raise RuntimeError("database gone")

    first, _ = _in_thread(lambda: shared.render("all", slow))
    assert running.wait(10)
    errors = []

    def lead():  # asks while the first render runs: leads the next one
        try:
            shared.render("all", failing)
        except RuntimeError as error:
            errors.append(error)

    leader = threading.Thread(target=lead, daemon=True)
    leader.start()
    _wait_until(lambda: "all" in shared._boarding)
    follower, result = _in_thread(lambda: shared.render("all", lambda: "own render"))
    _wait_until(lambda: counted() == 1)  # waits for the leader's render
    go.set()
    for thread in (first, leader, follower):
        thread.join(10)
    assert errors and result["value"] == "own render"


def test_a_render_waits_for_the_gate_and_askers_meanwhile_join_it(counted):
    gate = threading.BoundedSemaphore(1)
    shared = reloads.SharedRenders(gate)
    builds = []
    gate.acquire()  # the crowd's turn has not come
    askers = [_in_thread(lambda: shared.render("all", lambda: builds.append(1) or "board")) for _ in range(10)]
    _wait_until(lambda: counted() == 9)
    gate.release()
    for thread, _ in askers:
        thread.join(10)
    assert [result["value"] for _, result in askers] == ["board"] * 10
    assert len(builds) == 1


def _wait_until(condition, timeout=10.0):
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        done.wait(0.01)
    pytest.fail("condition not reached")

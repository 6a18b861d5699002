"""The cyclic garbage collector, tuned for a serving process that holds thousands of boards.

CPython's full collection (generation 2) walks every object the collector tracks, and
nothing else runs meanwhile: gevent runs one greenlet at a time, webhooks included. With
2,000 boards open a process tracks ~520,000 objects, and one full collection stopped it
for 430-570 ms (a gc callback timing them during `bench`'s 2,000-board row): webhook p99
went from ~40 ms to ~600 ms on the runs that had one.

So what survives a full collection is frozen (`gc.freeze()`: a permanent generation that
collections skip). Survivors are the long-lived part of the process (the app, the open
boards), and the next full collections walk only what is newer: 20-50 ms at 2,000 boards.
Reference counting still frees frozen objects; only cyclic garbage among them (a closed
board's sockets and greenlet, say) waits, until the frozen set has doubled since it was
last walked: then it is unfrozen, and the next full collection walks everything once, as
rarely as the heap doubles.

Installed by wsgi.py in serving processes only (gevent); tests and commands keep the
default collector.
"""
from __future__ import annotations

import gc

_walked = 0  # objects frozen after the last collection that walked everything


def install() -> None:
    """Freeze what startup made, and freeze the survivors of each full collection."""
    if _after_full_collection not in gc.callbacks:
        gc.collect()
        gc.callbacks.append(_after_full_collection)
        _freeze(walked_all=True)


def _after_full_collection(phase: str, info: dict) -> None:
    if phase == "stop" and info["generation"] == 2:
        _freeze(walked_all=gc.get_freeze_count() == 0)


def _freeze(*, walked_all: bool) -> None:
    global _walked
    gc.freeze()
    frozen = gc.get_freeze_count()
    if walked_all:
        _walked = frozen
    elif frozen > 2 * _walked:
        gc.unfreeze()  # the next full collection walks everything, and frees what died frozen

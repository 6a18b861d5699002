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
board's sockets and greenlet, say) waits: once the process's peak memory has doubled since
everything was last walked, the frozen are unfrozen and the next full collection walks
everything once. Memory stays within twice what it was; the long pause comes as rarely.
(Peak memory, not a count of the frozen: gc.get_freeze_count() walks them all to count.)

Installed by wsgi.py in serving processes only (gevent); tests and commands keep the
default collector.
"""
from __future__ import annotations

import gc
import resource

_walked_at = 0  # peak memory (KiB) when everything was last walked


def install() -> None:
    """Freeze what startup made, and freeze the survivors of each full collection."""
    global _walked_at
    if _after_full_collection not in gc.callbacks:
        gc.collect()
        gc.freeze()
        _walked_at = _peak_memory()
        gc.callbacks.append(_after_full_collection)


def _after_full_collection(phase: str, info: dict) -> None:
    global _walked_at
    if phase != "stop" or info["generation"] != 2:
        return
    if _walked_at is None:  # this one walked everything (unfrozen below)
        _walked_at = _peak_memory()
    gc.freeze()
    if _peak_memory() > 2 * _walked_at:
        gc.unfreeze()  # the next full collection walks everything, and frees what died frozen
        _walked_at = None


def _peak_memory() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

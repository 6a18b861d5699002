"""The serving process's garbage collector (app/infra/collector.py): survivors of a full
collection are frozen, so later ones walk only what is newer; cyclic garbage among the
frozen is freed once the frozen set has doubled. Run in a child process: freezing would
change the collector of the test process itself."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent('''
    import gc, weakref
    from app.infra import collector

    class Node:
        pass

    def cycle():
        a, b = Node(), Node()
        a.other, b.other = b, a
        return a

    collector.install()
    gc.disable()  # only the collections below, so each step is known
    startup = gc.get_freeze_count()
    assert startup > 0, "what startup made is frozen"

    boards = [cycle() for _ in range(1000)]  # long-lived, as open boards are
    gc.collect()
    assert gc.get_freeze_count() >= startup + 2000, "the survivors of a full collection are frozen"
    walked = {id(o) for o in gc.get_objects()}  # what a collection walks now
    assert not any(id(o) in walked for o in boards), "later collections skip them"

    closed = weakref.ref(boards.pop())  # a board closes: its cycle is garbage, but frozen
    gc.collect()
    assert closed() is not None, "cyclic garbage among the frozen waits"

    walked_at = collector._walked_at
    collector._peak_memory = lambda: 2 * walked_at + 1  # the process grew past twice its size then
    gc.collect()
    assert gc.get_freeze_count() == 0, "unfrozen"
    gc.collect()  # this one walks everything
    assert closed() is None, "freed once everything is walked again"
    assert gc.get_freeze_count() > 0, "and the survivors frozen again"
    assert collector._walked_at == 2 * walked_at + 1, "the size it was walked at"
    gc.collect()
    assert gc.get_freeze_count() > 0, "frozen until it doubles again"
    print("ok")
''')


@pytest.mark.slow  # a child process
def test_full_collections_skip_the_long_lived_and_garbage_among_them_is_freed_once_memory_doubles():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"

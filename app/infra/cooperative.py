"""Which concurrency the serving process runs: gevent (greenlets) or plain threads.

A serving process (`flask --app wsgi run`, `make demo`, the gunicorn worker of
gunicorn.conf.py) runs gevent: an open board is then a greenlet waiting on its socket
(memory, a few tens of KB) instead of one of a fixed number of threads (docs/operations.md,
"Serving model"). gevent's monkey patching must come before anything else imports the
socket, ssl or threading modules it replaces: gunicorn's gevent worker patches itself before it
loads the app, and wsgi.py calls `patch()` first for the flask commands that serve. Tests,
CLI commands and the in-process test server are not patched and keep Socket.IO's threading
mode: the app asks `async_mode()` which one it runs in, so one build serves both."""
from __future__ import annotations


def patch() -> None:
    """Make the standard library cooperative (idempotent); call before anything else."""
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        monkey.patch_all()


def is_on() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is in requirements.txt
        return False
    return monkey.is_module_patched("socket")


def async_mode() -> str:
    """Flask-SocketIO's async mode for this process: "gevent" once patched, else "threading"."""
    return "gevent" if is_on() else "threading"


def off_the_loop(work, *args):
    """`work(*args)` in a native thread when serving under gevent, while this greenlet waits
    and the others run; a plain call otherwise. For CPU work done in C that lets go of the
    GIL: a password hash (scrypt, ~100 ms) would otherwise stop every board and webhook of
    the process for as long as it takes."""
    if is_on():
        from gevent import get_hub

        return get_hub().threadpool.apply(work, args)
    return work(*args)

"""The background services of a serving process: the outbox worker and the scheduler.

`flask run` and gunicorn workers start them (wsgi.py, gunicorn.conf.py); tests and CLI
commands do not. PASSLINE_OUTBOX_WORKER / PASSLINE_SCHEDULER = "off" leave a service
to another process (contract §7: exactly one scheduler)."""
from __future__ import annotations

import os
import sys

import click

_started = False


def is_serving_command() -> bool:
    """True inside `flask run` in the process that will serve (not the reloader's parent)."""
    return _serves("run")


def serves_http() -> bool:
    """True inside a flask command that serves HTTP and Socket.IO in this process: `flask
    run` (as above) and `flask demo`; wsgi.py makes them cooperative (app/infra/cooperative.py)."""
    return _serves("run", "demo")


def _serves(*commands: str) -> bool:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return False
    if ctx.info_name == "flask":  # a command of the app's own: loaded before it is parsed
        return _subcommand(sys.argv[1:]) in commands
    if ctx.info_name not in commands:
        return False
    if ctx.info_name != "run":
        return True
    reload = ctx.params.get("reload")
    if reload is None:
        reload = bool(ctx.params.get("debug") or os.environ.get("FLASK_DEBUG") in ("1", "true"))
    return not reload or os.environ.get("WERKZEUG_RUN_MAIN") == "true"


def _subcommand(argv: list[str]) -> str | None:
    """The command word of `flask [--app X] [-e FILE] [--debug] COMMAND ...`."""
    taking_a_value = {"--app", "-A", "--env-file", "-e"}
    words = iter(argv)
    for word in words:
        if word in taking_a_value:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def start(app) -> None:
    global _started
    if _started:
        return
    _started = True
    if app.config["PASSLINE_OUTBOX_WORKER"] != "off":
        from .outbox import sender as outbox_sender

        outbox_sender.start(app)
    if app.config["PASSLINE_SCHEDULER"] != "off":
        from . import jobs

        jobs.start(app)

"""The background services of a serving process: the outbox worker and the scheduler.

`flask run` and gunicorn workers start them (wsgi.py, gunicorn.conf.py); tests and CLI
commands do not. PASSLINE_OUTBOX_WORKER / PASSLINE_SCHEDULER = "off" leave a service
to another process (contract §7: exactly one scheduler)."""
from __future__ import annotations

import os

import click

_started = False


def is_serving_command() -> bool:
    """True inside `flask run` in the process that will serve (not the reloader's parent)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.info_name != "run":
        return False
    reload = ctx.params.get("reload")
    if reload is None:
        reload = bool(ctx.params.get("debug") or os.environ.get("FLASK_DEBUG") in ("1", "true"))
    return not reload or os.environ.get("WERKZEUG_RUN_MAIN") == "true"


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

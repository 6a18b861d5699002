"""Scheduled jobs (APScheduler) and the `flask --app wsgi scheduler` command.

Exactly one scheduler should run (contract §7). `flask run` starts it in its own process
(app/background.py); when several processes serve, they run with PASSLINE_SCHEDULER=off
and one `flask --app wsgi scheduler` process runs the jobs, pushing live updates to the
boards through the Redis message queue. If two run anyway, app/services/overdue.py's database
locks keep every order flagged once. The outbox worker is not a job here: it runs its
own thread (app/outbox/sender.py). README "Background jobs" lists what runs and when.
"""
from __future__ import annotations

import atexit
import signal
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import click
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler
from flask import current_app
from flask.cli import with_appcontext

from .services import heartbeat, overdue, retention
from .infra import live
from .extensions import db
from .infra.outage import Failures


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], object]  # called inside an app context; returns how much it did
    seconds: float
    says: str  # what a run reports, formatted with how much it did


def jobs(app) -> list[Job]:
    return [Job("overdue", overdue.tick, app.config["OVERDUE_CHECK_SECONDS"], "{} order(s) changed"),
            Job("retention", retention.run, app.config["RETENTION_CHECK_SECONDS"], "{}")]


def run_once(app, job: Job):
    """One run of a job in its own app context (its own session), then its heartbeat
    (app/services/heartbeat.py: /healthz and the board see when the overdue tick stops). A failure
    is rolled back and logged, a run of them once (app/infra/outage.py): the next run tries
    again, and the scheduler keeps going."""
    failures = _failures(app, job)
    with app.app_context():
        try:
            result = job.run()
            heartbeat.beat(job.name)
        except Exception as error:
            db.session.rollback()
            failures.failed(error, f"it runs again in {job.seconds:g}s")
            return None
    failures.succeeded()
    return result


def _failures(app, job: Job) -> Failures:
    by_job = app.extensions.setdefault("passline_job_failures", {})
    if job.name not in by_job:
        by_job[job.name] = Failures(app.logger, f"job {job.name}")
    return by_job[job.name]


def build(app) -> BackgroundScheduler:
    """A scheduler holding every job, first runs due at once. A run that is still going
    when the next is due is not doubled (max_instances=1); runs missed while the process
    was busy or asleep collapse into one (coalesce)."""
    scheduler = BackgroundScheduler(
        timezone=timezone.utc,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    first = datetime.now(timezone.utc)  # APScheduler keeps real time, not app.clock
    for job in jobs(app):
        scheduler.add_job(run_once, "interval", args=(app, job), seconds=job.seconds,
                          id=job.name, name=job.name, next_run_time=first)
    return scheduler


def start(app) -> BackgroundScheduler:
    """The in-process scheduler of a serving process (app/background.py)."""
    scheduler = build(app)
    scheduler.start()
    atexit.register(lambda: scheduler.running and scheduler.shutdown(wait=False))
    app.extensions["passline_scheduler"] = scheduler
    return scheduler


@click.command("scheduler")
@click.option("--once", is_flag=True, help="Run every job once, then exit.")
@click.option("--max-ticks", type=click.IntRange(min=1),
              help="Exit after the overdue job has run this many times.")
@with_appcontext
def scheduler_command(once, max_ticks):
    """Run only the scheduler: the one process that runs the jobs when several serve."""
    app = current_app._get_current_object()
    if not app.config["REDIS_URL"]:
        click.echo("warning: REDIS_URL is not set, so boards served by other processes "
                   "see this scheduler's flags only on reload", err=True)
    if once:
        for job in jobs(app):
            _report(job, run_once(app, job))
        live.drain(app)  # the flagged cards reach the boards before the process ends
        return

    stop = threading.Event()
    ticks = 0
    by_name = {job.name: job for job in jobs(app)}

    def finished(event):
        nonlocal ticks
        _report(by_name[event.job_id], getattr(event, "retval", None))
        if event.job_id == "overdue":
            ticks += 1
            if max_ticks and ticks >= max_ticks:
                stop.set()

    scheduler = build(app)
    scheduler.add_listener(finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    restore = _stop_on_sigterm(stop)
    scheduler.start()
    click.echo("scheduler: " + ", ".join(f"{j.name} every {j.seconds:g}s" for j in jobs(app)))
    try:
        while not stop.wait(0.5):  # a timed wait lets Ctrl-C through
            pass
    except KeyboardInterrupt:
        pass
    finally:
        scheduler.shutdown(wait=True)  # lets a running tick commit
        live.drain(app)
        restore()
    click.echo(f"scheduler: stopped after {ticks} overdue tick(s)")


def _report(job: Job, result) -> None:
    if result:
        click.echo(f"{job.name}: {job.says.format(result)}")


def _stop_on_sigterm(stop: threading.Event) -> Callable[[], None]:
    """Stop cleanly on SIGTERM (a process manager's stop); returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return lambda: signal.signal(signal.SIGTERM, previous)

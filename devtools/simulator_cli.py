"""`flask --app wsgi onetablet-sim`: the simulator alone, as a stand-in for OneTablet."""
from __future__ import annotations

import signal
import threading

import click
from flask import current_app

from .restaurants import RESTAURANTS
from .simulator import Behaviour, Simulator


def register(app) -> None:
    @app.cli.command("onetablet-sim")
    @click.option("--port", type=int, default=5050, show_default=True, help="where its API listens (127.0.0.1)")
    @click.option("--target", help="Passline's base URL for webhooks, e.g. http://127.0.0.1:5000")
    @click.option("--api-key", help="the bearer key it accepts [ONETABLET_API_KEY]")
    @click.option("--webhook-secret", help="whsec_… it signs with [ONETABLET_WEBHOOK_SECRET]")
    @click.option("--speed", type=float, default=1.0, show_default=True,
                  help="restaurant time per real time (60: a minute a second)")
    @click.option("--reject-odds", type=float, default=0.07, show_default=True)
    @click.option("--cancel-odds", type=float, default=0.05, show_default=True)
    @click.option("--pause-every", type=float, default=45, show_default=True,
                  help="mean minutes between store pauses (0: never)")
    @click.option("--eighty-six-every", type=float, default=30, show_default=True,
                  help="mean minutes between 86'd items (0: never)")
    @click.option("--duplicates", type=float, default=0.0, help="odds a webhook is sent twice")
    @click.option("--out-of-order", type=float, default=0.0, help="odds a confirmation arrives after the ready")
    @click.option("--errors", type=float, default=0.0, help="odds an API call is answered 503")
    @click.option("--slow", type=float, default=0.0, help="odds an API call is answered late")
    @click.option("--slow-seconds", type=float, default=5.0, show_default=True)
    @click.option("--seed", type=int, help="for a repeatable run")
    def onetablet_sim(port, target, api_key, webhook_secret, speed, reject_odds, cancel_odds, pause_every,
                      eighty_six_every, duplicates, out_of_order, errors, slow, slow_seconds, seed):
        """Run the OneTablet simulator: its API, and restaurants that answer by webhook."""
        config = current_app.config
        api_key = api_key or config.get("ONETABLET_API_KEY")
        webhook_secret = webhook_secret or config.get("ONETABLET_WEBHOOK_SECRET")
        if not api_key:
            raise click.UsageError("give --api-key or set ONETABLET_API_KEY")
        if target and not webhook_secret:
            raise click.UsageError("give --webhook-secret or set ONETABLET_WEBHOOK_SECRET to sign webhooks")
        behaviour = Behaviour(speed=speed, reject_odds=reject_odds, cancel_odds=cancel_odds,
                              pause_every_minutes=pause_every, eighty_six_every_minutes=eighty_six_every,
                              duplicate_odds=duplicates, reorder_odds=out_of_order, error_odds=errors,
                              slow_odds=slow, slow_seconds=slow_seconds, seed=seed)
        simulator = Simulator(api_key=api_key, webhook_secret=webhook_secret, target=target,
                              restaurants=RESTAURANTS if target else [], behaviour=behaviour, port=port)
        simulator.start()
        click.echo(f"OneTablet simulator: API at {simulator.url}"
                   + (f", restaurants calling {target}/onetablet" if target else " (no --target: API only)"))
        run_until_stopped(simulator.stop)


def run_until_stopped(stop) -> None:
    """Block until Ctrl-C or SIGTERM, then call `stop`."""
    stopped = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop()

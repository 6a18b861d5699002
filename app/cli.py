"""Command-line tools (SPEC §6), registered on the app: `flask --app wsgi <command>`."""


def register(app):
    """Each area adds its commands here."""
    from . import jobs

    app.cli.add_command(jobs.scheduler_command)  # `scheduler`: the jobs alone (SPEC §7)
    from . import demo
    from .onetablet import cli as onetablet_cli

    onetablet_cli.register(app)  # `onetablet-sim`: a stand-in for OneTablet
    demo.register(app)  # `demo`: Passline, the simulator and simulated customers
    from .reports import seed

    seed.register(app)  # `seed-history`: finished orders for report demos and benchmarks

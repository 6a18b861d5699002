"""Command-line tools (contract §6), registered on the app: `flask --app wsgi <command>`.
Users come from app/auth (`user …`), migrations from Flask-Migrate (`db …`); the developer
commands (`demo`, `onetablet-sim`, `seed-history`) from devtools/, registered by wsgi.py."""


def register(app):
    """Each area adds its commands here."""
    from . import jobs

    app.cli.add_command(jobs.scheduler_command)  # `scheduler`: the jobs alone (contract §7)

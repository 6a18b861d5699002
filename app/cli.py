"""Command-line tools (SPEC §6), registered on the app: `flask --app wsgi <command>`."""


def register(app):
    """Each area adds its commands here."""

"""OneTablet's webhooks (contract §3.1), under /onetablet: intake.py receives one (verify,
parse, dedupe, keep, answer), routes.py names the six."""
from .routes import bp  # noqa: F401

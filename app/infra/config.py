"""Settings from the environment (contract §4). One place for every knob.

A setting that cannot be used is refused at start, in one line that names it and says
what it takes: a typo must not start a process that silently never ticks (a negative
OVERDUE_CHECK_SECONDS) or deletes every webhook's dedupe key (DEDUPE_KEEP_DAYS=-1)."""
import math
import os
import secrets
from datetime import timedelta

from ..domain.lifecycle import TimeLimits
from . import phones


class SettingError(RuntimeError):
    """A setting from the environment that Passline cannot run with."""


def _number(name: str, default: float, *, minimum: float = 0, above: bool = True, integer: bool = False,
            unit: str = "") -> float:
    """The setting `name` as a finite number above `minimum` (or at least it, with
    above=False), a whole one with integer=True; `default` when unset."""
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    kind = "a whole number" if integer else "a number"
    bound = f"{'above' if above else 'at least'} {minimum:g}"
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < minimum or (above and value == minimum):
        raise SettingError(f"{name} must be {kind}{' of ' + unit if unit else ''} {bound}, got {raw!r}")
    return value


def _minutes(name: str, default: float) -> float:
    return _number(name, default, unit="minutes")


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name) or default
    if value not in choices:
        raise SettingError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def time_limits(config) -> TimeLimits:
    """The lifecycle's time limits (contract §2) from the OVERDUE_* settings: the one place
    they are read, by the overdue tick and the reports alike."""
    minutes = lambda name: timedelta(minutes=config[f"OVERDUE_{name}_MINUTES"])  # noqa: E731
    return TimeLimits(
        confirmation=minutes("CONFIRMATION"),
        preparation=minutes("PREPARATION"),
        preparation_grace=minutes("PREPARATION_GRACE"),
        courier_pickup=minutes("COURIER_PICKUP"),
        customer_pickup=minutes("CUSTOMER_PICKUP"),
        delivery=minutes("DELIVERY"),
    )


def _default_database_url(instance_path: str) -> str:
    return "sqlite:///" + os.path.join(instance_path, "passline.sqlite3")


def _normalise_database_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3 here (the driver we install)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_environment(instance_path: str) -> dict:
    """Read contract §4's variables; defaults are the single-process SQLite setup."""
    env = os.environ.get
    production = _choice("PASSLINE_ENV", "development", ("development", "production")) == "production"
    secret_key = env("SECRET_KEY")
    if not secret_key:
        if production:
            raise SettingError("SECRET_KEY must be set when PASSLINE_ENV=production")
        secret_key = secrets.token_hex(32)  # sessions last until the next start in dev
    if production and env("CUSTOMER_WEBHOOK_URL") and not env("CUSTOMER_WEBHOOK_SECRET"):
        # contract §4: customer notifications are signed; the customer app's secret is its own,
        # never OneTablet's (a shared one would let either forge the other's webhooks).
        raise SettingError("CUSTOMER_WEBHOOK_SECRET must be set when CUSTOMER_WEBHOOK_URL is "
                           "and PASSLINE_ENV=production: customer notifications are signed with it")
    database_url = _normalise_database_url(env("DATABASE_URL") or _default_database_url(instance_path))
    engine_options = {}
    if database_url.startswith("postgresql"):
        # A connection the server dropped (a restart, a failover) is replaced before use.
        # SQLite has no server to drop one: a ping there is a statement per request for nothing.
        engine_options["pool_pre_ping"] = True
        # A PostgreSQL that accepts connections and never answers must not hold a request
        # (or /healthz) for ever: libpq gives up connecting after this many seconds.
        engine_options["connect_args"] = {"connect_timeout": 5}
    return {
        "PASSLINE_ENV": "production" if production else "development",
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": env("REDIS_URL") or None,
        "ONETABLET_API_URL": env("ONETABLET_API_URL") or None,
        "ONETABLET_API_KEY": env("ONETABLET_API_KEY") or None,
        "ONETABLET_WEBHOOK_SECRET": env("ONETABLET_WEBHOOK_SECRET") or None,
        "PLATFORM_API_KEY": env("PLATFORM_API_KEY") or None,
        "CUSTOMER_WEBHOOK_URL": env("CUSTOMER_WEBHOOK_URL") or None,
        "OVERDUE_CONFIRMATION_MINUTES": _minutes("OVERDUE_CONFIRMATION_MINUTES", 5),
        "OVERDUE_PREPARATION_MINUTES": _minutes("OVERDUE_PREPARATION_MINUTES", 20),
        "OVERDUE_PREPARATION_GRACE_MINUTES": _minutes("OVERDUE_PREPARATION_GRACE_MINUTES", 5),
        "OVERDUE_COURIER_PICKUP_MINUTES": _minutes("OVERDUE_COURIER_PICKUP_MINUTES", 15),
        "OVERDUE_CUSTOMER_PICKUP_MINUTES": _minutes("OVERDUE_CUSTOMER_PICKUP_MINUTES", 30),
        "OVERDUE_DELIVERY_MINUTES": _minutes("OVERDUE_DELIVERY_MINUTES", 45),
        "OVERDUE_CHECK_SECONDS": _number("OVERDUE_CHECK_SECONDS", 15, unit="seconds"),
        # A visible board reloads itself this often, in case a live push was lost (0: never).
        "BOARD_CATCH_UP_SECONDS": _number("BOARD_CATCH_UP_SECONDS", 60, above=False, unit="seconds"),
        # The country of a phone number typed without +<country code> (app/infra/phones.py).
        "PHONE_REGION": _choice("PHONE_REGION", "US", tuple(sorted(phones.REGIONS))),
        # Webhook dedupe keys are kept this long (app/services/retention.py), pruned this often.
        "DEDUPE_KEEP_DAYS": _number("DEDUPE_KEEP_DAYS", 30, unit="days"),
        "RECEIPTS_KEEP_DAYS": _number("RECEIPTS_KEEP_DAYS", 0, above=False, unit="days"),  # 0: the webhook log is kept
        "RETENTION_CHECK_SECONDS": _number("RETENTION_CHECK_SECONDS", 3600, unit="seconds"),
        # /healthz says "degraded" (still 200), and the board warns, when the overdue tick is later than
        # 3 x OVERDUE_CHECK_SECONDS + this (app/services/heartbeat.py).
        "HEARTBEAT_MARGIN_SECONDS": _number("HEARTBEAT_MARGIN_SECONDS", 60, above=False, unit="seconds"),
        # Which background services this process runs: "auto" starts them when the
        # process serves (flask run / gunicorn); "off" leaves them to other processes.
        "PASSLINE_SCHEDULER": _choice("PASSLINE_SCHEDULER", "auto", ("auto", "off")),
        "PASSLINE_OUTBOX_WORKER": _choice("PASSLINE_OUTBOX_WORKER", "auto", ("auto", "off")),
        "OUTBOX_MAX_ATTEMPTS": _number("OUTBOX_MAX_ATTEMPTS", 12, minimum=1, above=False, integer=True),
        "OUTBOX_MAX_HOURS": _number("OUTBOX_MAX_HOURS", 24, unit="hours"),
        # Backoff after the n-th failure: a random wait below min(MAX, BASE·2^(n-1)) seconds.
        "OUTBOX_BASE_DELAY_SECONDS": _number("OUTBOX_BASE_DELAY_SECONDS", 2, unit="seconds"),
        "OUTBOX_MAX_DELAY_SECONDS": _number("OUTBOX_MAX_DELAY_SECONDS", 600, unit="seconds"),
        "OUTBOX_POLL_SECONDS": _number("OUTBOX_POLL_SECONDS", 2, unit="seconds"),  # due retries are looked for
        # A sender's claim on a message; must outlast connect + read timeout, so that a
        # crashed sender's messages are taken over only once it cannot still be sending.
        "OUTBOX_LOCK_SECONDS": _number("OUTBOX_LOCK_SECONDS", 60, unit="seconds"),
        "OUTBOX_SENDERS": _number("OUTBOX_SENDERS", 4, minimum=1, above=False, integer=True),  # sender threads per process
        "OUTBOX_CONNECT_TIMEOUT_SECONDS": _number("OUTBOX_CONNECT_TIMEOUT_SECONDS", 3.05, unit="seconds"),
        "OUTBOX_READ_TIMEOUT_SECONDS": _number("OUTBOX_READ_TIMEOUT_SECONDS", 10, unit="seconds"),
        "CUSTOMER_WEBHOOK_SECRET": env("CUSTOMER_WEBHOOK_SECRET") or None,  # whsec_…
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        # A form's CSRF token lasts as long as the login session it belongs to (the browser
        # session: no PERMANENT_SESSION_LIFETIME), not Flask-WTF's default hour: a board or
        # /couriers left open through a shift must still submit. The token is tied to the
        # session's own random value, so logging out or a new session still ends it.
        "WTF_CSRF_TIME_LIMIT": None,
        # Couriers' phones (contract §3.5): wrong links are throttled per address (a link is
        # 256 random bits: this bounds what guessing costs us), how often the page asks for
        # new orders and sends its position.
        "COURIER_LINK_FAILURES_PER_ADDRESS": _number("COURIER_LINK_FAILURES_PER_ADDRESS", 20, minimum=1,
                                                     above=False, integer=True),
        "COURIER_LINK_FAILURE_WINDOW_SECONDS": _number("COURIER_LINK_FAILURE_WINDOW_SECONDS", 300, unit="seconds"),
        "COURIER_POLL_SECONDS": _number("COURIER_POLL_SECONDS", 10, unit="seconds"),
        "COURIER_POSITION_SECONDS": _number("COURIER_POSITION_SECONDS", 30, unit="seconds"),
        # Where couriers reach Passline, for links made outside a request (`courier link`).
        "PASSLINE_URL": env("PASSLINE_URL") or "http://127.0.0.1:5000",
        "MAX_CONTENT_LENGTH": 1024 * 1024,  # contract §3.1: 413 over 1 MiB
        # Wrong passwords allowed per window (app/auth/throttle.py), counted per username and
        # per client address; the next guess is refused (429) without hashing anything.
        "LOGIN_FAILURES_PER_USERNAME": _number("LOGIN_FAILURES_PER_USERNAME", 10, minimum=1, above=False,
                                               integer=True),
        "LOGIN_FAILURES_PER_ADDRESS": _number("LOGIN_FAILURES_PER_ADDRESS", 30, minimum=1, above=False,
                                              integer=True),
        "LOGIN_FAILURE_WINDOW_SECONDS": _number("LOGIN_FAILURE_WINDOW_SECONDS", 300, minimum=1, above=False,
                                                integer=True, unit="seconds"),
        # How many proxies in front of us set X-Forwarded-For (nginx: 1). 0 trusts no such
        # header: a client could otherwise pick the address its guesses are counted under.
        "PROXY_FIX_X_FOR": _number("PROXY_FIX_X_FOR", 0, above=False, integer=True),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
    }

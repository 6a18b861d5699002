"""Settings from the environment (SPEC §4). One place for every knob."""
import os
import secrets


def _minutes(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    value = float(raw)
    if value <= 0:
        raise ValueError(f"{name} must be a positive number of minutes, got {raw!r}")
    return value


def _default_database_url(instance_path: str) -> str:
    return "sqlite:///" + os.path.join(instance_path, "passline.sqlite3")


def _normalise_database_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3 here (the driver we install)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_environment(instance_path: str) -> dict:
    """Read SPEC §4's variables; defaults are the single-process SQLite setup."""
    env = os.environ.get
    production = env("PASSLINE_ENV", "development") == "production"
    secret_key = env("SECRET_KEY")
    if not secret_key:
        if production:
            raise RuntimeError("SECRET_KEY must be set when PASSLINE_ENV=production")
        secret_key = secrets.token_hex(32)  # sessions last until the next start in dev
    if production and env("CUSTOMER_WEBHOOK_URL") and not env("CUSTOMER_WEBHOOK_SECRET"):
        # SPEC §4: customer notifications are signed; the customer app's secret is its own,
        # never OneTablet's (a shared one would let either forge the other's webhooks).
        raise RuntimeError("CUSTOMER_WEBHOOK_SECRET must be set when CUSTOMER_WEBHOOK_URL is "
                           "and PASSLINE_ENV=production: customer notifications are signed with it")
    return {
        "PASSLINE_ENV": "production" if production else "development",
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": _normalise_database_url(
            env("DATABASE_URL") or _default_database_url(instance_path)),
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
        "OVERDUE_CHECK_SECONDS": float(env("OVERDUE_CHECK_SECONDS") or 15),
        # A visible board reloads itself this often, in case a live push was lost (0: never).
        "BOARD_CATCH_UP_SECONDS": float(env("BOARD_CATCH_UP_SECONDS") or 60),
        # Webhook dedupe keys are kept this long (app/retention.py), pruned this often.
        "DEDUPE_KEEP_DAYS": float(env("DEDUPE_KEEP_DAYS") or 30),
        "RECEIPTS_KEEP_DAYS": float(env("RECEIPTS_KEEP_DAYS") or 0),  # 0: the webhook log is kept
        "RETENTION_CHECK_SECONDS": float(env("RETENTION_CHECK_SECONDS") or 3600),
        # Which background services this process runs: "auto" starts them when the
        # process serves (flask run / gunicorn); "off" leaves them to other processes.
        "PASSLINE_SCHEDULER": env("PASSLINE_SCHEDULER", "auto"),
        "PASSLINE_OUTBOX_WORKER": env("PASSLINE_OUTBOX_WORKER", "auto"),
        "OUTBOX_MAX_ATTEMPTS": int(env("OUTBOX_MAX_ATTEMPTS") or 12),
        "OUTBOX_MAX_HOURS": float(env("OUTBOX_MAX_HOURS") or 24),
        # Backoff after the n-th failure: a random wait below min(MAX, BASE·2^(n-1)) seconds.
        "OUTBOX_BASE_DELAY_SECONDS": float(env("OUTBOX_BASE_DELAY_SECONDS") or 2),
        "OUTBOX_MAX_DELAY_SECONDS": float(env("OUTBOX_MAX_DELAY_SECONDS") or 600),
        "OUTBOX_POLL_SECONDS": float(env("OUTBOX_POLL_SECONDS") or 2),  # due retries are looked for
        # A sender's claim on a message; must outlast connect + read timeout, so that a
        # crashed sender's messages are taken over only once it cannot still be sending.
        "OUTBOX_LOCK_SECONDS": float(env("OUTBOX_LOCK_SECONDS") or 60),
        "OUTBOX_SENDERS": int(env("OUTBOX_SENDERS") or 4),  # sender threads per process
        "OUTBOX_CONNECT_TIMEOUT_SECONDS": float(env("OUTBOX_CONNECT_TIMEOUT_SECONDS") or 3.05),
        "OUTBOX_READ_TIMEOUT_SECONDS": float(env("OUTBOX_READ_TIMEOUT_SECONDS") or 10),
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
        "MAX_CONTENT_LENGTH": 1024 * 1024,  # SPEC §3.1: 413 over 1 MiB
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }

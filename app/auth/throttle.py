"""Password guessing is throttled (contract §3.6): wrong passwords are counted per username and
per client address (Flask-Limiter), and once either count is full the next POST /login is
refused with 429 and Retry-After before any password is hashed, so guessers can neither
try many passwords nor make the server spend a scrypt hash on each.

Only failures count (a 401 answer): a control room behind one address where everyone logs
in at shift change is never refused, and someone who mistyped three times keeps going.
The counts live in Redis when REDIS_URL is set, so every process sees the same ones; in
memory otherwise (the one-process default)."""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter, RequestLimit
from limits import RateLimitItemPerSecond

_KEY = "passline_throttle"
_ALL = "passline_limiters"  # every Limiter of the app, for reset()


def _address() -> str:
    """The client's address as this process knows it: ProxyFix (PROXY_FIX_X_FOR) sets it
    from the proxy's X-Forwarded-For; without it a client's own header changes nothing."""
    return request.remote_addr or "unknown"


def _username() -> str:
    # Lower case and stripped, as app/users.find matches: "DANA " is the same account.
    return (request.form.get("username") or "").strip().lower() or "(blank)"


# Counted under "address:" and "user:": a username spelled like an address is another count.
def address_key() -> str:
    return "address:" + _address()


def _username_key() -> str:
    return "user:" + _username()


def _failed(response) -> bool:
    return response.status_code == 401


def init_app(app: Flask, endpoint: str) -> None:
    """Guard the view at `endpoint` in `app`. One Limiter per app (tests build many apps in
    a process), hence the view wrapped here rather than decorated where it is defined. The
    check runs before the view's body, so a refused guess never reaches the password hash."""
    window = int(app.config["LOGIN_FAILURE_WINDOW_SECONDS"])
    limiter = make_limiter(app, "passline-login", guards=(endpoint,))
    per_address = f"{int(app.config['LOGIN_FAILURES_PER_ADDRESS'])} per {window} second"
    per_username = f"{int(app.config['LOGIN_FAILURES_PER_USERNAME'])} per {window} second"
    view = limiter.limit(per_address, key_func=address_key, methods=["POST"], deduct_when=_failed)(
        app.view_functions[endpoint])
    app.view_functions[endpoint] = limiter.limit(per_username, key_func=_username_key, methods=["POST"],
                                                 deduct_when=_failed, on_breach=_warn_once)(view)
    app.extensions[_KEY] = limiter


def make_limiter(app: Flask, key_prefix: str, guards: tuple[str, ...]) -> Limiter:
    """A Limiter for `app` whose counts live in Redis when REDIS_URL is set (every process
    sees the same ones), in memory otherwise; also used by the couriers' links (app/couriers_app).
    It looks only at requests to the `guards` endpoints."""
    redis_url = app.config.get("REDIS_URL")
    limiter = Limiter(
        key_func=address_key,
        app=None,
        storage_uri=redis_url or "memory://",
        # Give up on a Redis that does not answer within a second, and count in this
        # process meanwhile: a login page that 500s because Redis is down locks everyone out.
        storage_options={"socket_timeout": 1, "socket_connect_timeout": 1} if redis_url else {},
        in_memory_fallback_enabled=True,
        # Retry-After counts from the oldest failure still in the window, not from a fixed
        # clock boundary: nobody waits a whole window for one mistake at its end.
        strategy="moving-window",
        key_prefix=key_prefix,
        headers_enabled=False,  # Retry-After is set on the 429 alone (app/auth/__init__.py)
    )
    # Flask-Limiter checks every request of the app before its view; for a webhook that was
    # 6 % of its CPU, resolving that no limit applies.
    limiter.request_filter(lambda: request.endpoint not in guards)
    limiter.init_app(app)
    app.extensions.setdefault(_ALL, []).append(limiter)
    return limiter


def retry_after(key: str = _KEY) -> int:
    """Seconds until the refused request's limit lets one more guess through."""
    import time

    limit = current_app.extensions[key].current_limit
    return max(1, int(limit.reset_at - time.time())) if limit else 1


def _warn_once(limit: RequestLimit) -> None:
    """Say in the log that an account is being guessed at: once per window and username,
    across processes (the same storage remembers it), never with the password."""
    limiter = current_app.extensions[_KEY]
    username = _username()
    once = RateLimitItemPerSecond(1, limit.limit.get_expiry())
    if limiter.limiter.hit(once, "passline-login-warned", username):
        current_app.logger.warning("password guessing refused for username %r from %s: %d wrong passwords "
                                   "within %d s", username, _address(), limit.limit.amount,
                                   limit.limit.get_expiry())


def reset(app: Flask) -> None:
    """Forget every count (tests start each from zero, as a fresh deployment does)."""
    try:
        for limiter in app.extensions.get(_ALL, []):
            limiter.reset()
    except Exception:  # noqa: BLE001 - a Redis that is down holds no counts to forget
        app.logger.warning("login throttle: the counts could not be reset", exc_info=True)

"""Staff login (Flask-Login): who is signed in (`Staff`, with the account's session version),
the login and logout views, and `role_required` for the pages."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit, urlunsplit

from flask import (Blueprint, abort, current_app, flash, make_response, redirect, render_template, request,
                   session, url_for)
from flask_limiter.errors import RateLimitExceeded
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError

from ..services import accounts
from ..extensions import csrf, db, login_manager
from ..infra.htmx import is_htmx
from . import redirects, throttle
from ..models import User

bp = Blueprint("auth", __name__)


class Staff(UserMixin):
    """The logged-in person, as Flask-Login sees them."""

    def __init__(self, user: User):
        self.id = str(user.id)
        self.username = user.username
        self.role = user.role
        self.session_version = user.session_version or 0

    def get_id(self) -> str:
        """What the session keeps: the user id and the account's session version, so a
        new password, a new role or a disable (each raises the version) ends it."""
        return f"{self.id}:{self.session_version}"

    @property
    def actor(self) -> str:
        return f"staff:{self.username}"

    def can(self, role: str) -> bool:
        return accounts.RANK.get(self.role, -1) >= accounts.RANK[role]


def _parse(session_id: str) -> tuple[int, int] | None:
    """(user id, session version) from a session's id; a bare id (a session from before
    versions) is version 0."""
    user_id, _, version = (session_id or "").partition(":")
    if not user_id.isdigit() or not (version or "0").isdigit():
        return None
    return int(user_id), int(version or "0")


# The WSGI environ key under which the Socket.IO handshake's check (app/board/handshake.py)
# leaves who it found signed in. The socket's connect handler runs with that same environ a
# moment later: it takes them from there instead of reading the account a second time (a
# thousand boards reconnecting at once make each read count).
CHECKED_AT_HANDSHAKE = "passline.staff_at_handshake"


@login_manager.user_loader
def _load(session_id: str):
    checked = request.environ.get(CHECKED_AT_HANDSHAKE)
    if checked is not None and checked.get_id() == session_id:
        return checked
    parsed = _parse(session_id)
    user = db.session.get(User, parsed[0]) if parsed else None
    if user is None or not user.is_enabled or (user.session_version or 0) != parsed[1]:
        return None
    return Staff(user)


def relogin(user: User) -> None:
    """Keep the current session signed in after the account's sessions were ended by its
    own owner (a new password set on /users): the others end, this one carries on."""
    login_user(Staff(user))


@login_manager.unauthorized_handler
def _unauthorized():
    """Not logged in, or no longer (signed out elsewhere, a new SECRET_KEY). A page goes to
    the login form. An htmx request (the board's refresh, a form in the order panel) would
    swap the login form into the page it came from, so it is told to send the whole window
    there instead (HX-Redirect), back to the same page after login."""
    why = _why_signed_out()
    if (login_manager.login_message_category, why) not in session.get("_flashes", []):
        flash(why, login_manager.login_message_category)  # the login page says it, once
    if is_htmx():
        here = urlsplit(request.headers.get("HX-Current-URL") or request.url)
        response = make_response("", 401)
        response.headers["HX-Redirect"] = url_for("auth.login", next=urlunsplit(("", "", here.path, here.query, "")))
        return response
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


ACCOUNT_DISABLED = "Your account was disabled. Ask an admin if that is a mistake."
SESSION_ENDED = ("Your session ended (you logged out, or your password or role was changed); "
                 "please sign in again.")


def _why_signed_out() -> str:
    """Why this request has no user, in words: the session names an account that was
    disabled, or whose sessions were ended; otherwise (never signed in, signed out) the
    usual "please log in"."""
    parsed = _parse(str(session.get("_user_id") or ""))
    user = db.session.get(User, parsed[0]) if parsed else None
    if user is None:
        return login_manager.login_message
    return ACCOUNT_DISABLED if not user.is_enabled else SESSION_ENDED


@bp.get("/session")
@login_required
def session_check():
    """204 while the session is signed in. Otherwise the login page's address, as for any
    htmx request (HX-Redirect, with why in a flash): what a live page asks when its socket
    is refused or closed by the server (static/js/app.js, passlineCheckSession)."""
    return "", 204


def role_required(role: str):
    """Only `role` and above; others get 403 (and anonymous people the login page)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.can(role):
                abort(403, description=f"This page is for the {role} role and above.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


LOGIN_EXPIRED = ("This login form had expired (or came without its security token), so nobody was "
                 "signed in. Enter your username and password again.")
NEXT_REFUSED = "The link that sent you here pointed off this site; after you log in you will go to the board."
WRONG_PASSWORD = "Wrong username or password."


def _login_form(status: int, error: str | None = None):
    """The login form; `next` carried on only when it stays on this site."""
    target = redirects.on_site(request.args.get("next"))
    notice = NEXT_REFUSED if request.args.get("next") and target is None else None
    return render_template("auth/login.html", error=error, notice=notice, next=target), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form (fields `username` and `password`). POSTs are throttled
    (app/auth/throttle.py) before they get here."""
    if request.method == "GET":
        return _login_form(200)
    try:
        csrf.protect()  # here, not before the view: an expired form gets the form back, in words
    except CSRFError as error:
        current_app.logger.info("login form refused: %s", error.description)
        return _login_form(400, LOGIN_EXPIRED)
    user = accounts.authenticate(request.form.get("username", ""), request.form.get("password", ""))
    if user is None:
        return _login_form(401, WRONG_PASSWORD)  # a 401 is what the throttle counts
    login_user(Staff(user))
    target = redirects.on_site(request.args.get("next"))
    if target is None:
        target = url_for("board.index") if "board.index" in current_app.view_functions else "/"
    return redirect(target, code=303)


@bp.errorhandler(RateLimitExceeded)
def _too_many_guesses(error: RateLimitExceeded):
    """A refused guess: the form, saying how long to wait, and Retry-After for machines."""
    wait = throttle.retry_after()
    page, status = _login_form(429, f"Too many attempts to log in; nothing was checked. "
                                    f"Try again in {wait} s.")
    return page, status, {"Retry-After": str(wait)}


@bp.post("/logout")
@login_required
def logout():
    """Log out (a POST, so a link on another site cannot do it). It ends every session of
    this account on the server, not only this browser's cookie: a copy of the cookie (or a
    board left open on another screen under this name) stops working, and the socket sweep
    closes their live connections."""
    user = db.session.get(User, int(current_user.id))
    accounts.end_sessions(user)
    db.session.commit()
    logout_user()
    sweep_sockets()
    flash("Logged out.")
    return redirect(url_for("auth.login"), code=303)


def sweep_sockets() -> None:
    """Close this process's sockets of the ended sessions; servers' own sweeps close theirs."""
    from ..board import sockets

    sockets.sweep()

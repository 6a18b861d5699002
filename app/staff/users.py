"""/users (admin): staff accounts. Add one (app/services/accounts.py holds the rules), change its role,
set a new password, disable or enable it. A new role, a new password or a disable ends
the account's sessions at their next request (app/auth compares the session version the
change raises; a re-enabled account logs in again) and closes its open boards' sockets
(app/board/sockets.py)."""
from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user
from sqlalchemy import select

from ..services import accounts
from ..auth import relogin, role_required
from ..board import sockets
from ..extensions import db
from ..models import User
from .pages import respond, saved

bp = Blueprint("users", __name__, url_prefix="/users")

PAGE, FRAGMENT = "users/index.html", "users/_staff.html"


def staff(**extra) -> dict:
    everyone = db.session.execute(
        select(User).order_by(User.is_enabled.desc(), User.username)
    ).scalars().all()
    context = {"accounts": everyone, "roles": accounts.ROLES, "values": {"role": "dispatcher"},
               "errors": {}, "notice": None, "error": None}
    context.update(extra)
    return context


def _saved(message: str):
    return saved(message, "users.index", FRAGMENT, staff)


@bp.get("")
@role_required("admin")
def index():
    """Every staff account, and a form to add one."""
    return respond(PAGE, FRAGMENT, **staff())


@bp.post("")
@role_required("admin")
def add():
    """Add a staff account."""
    values = {"username": request.form.get("username", "").strip(), "role": request.form.get("role", "")}
    try:
        accounts.create_user(values["username"], role=values["role"], password=request.form.get("password", ""))
    except accounts.UserError as error:
        db.session.rollback()
        errors = {error.field or "username": str(error).capitalize() + "."}
        return respond(PAGE, FRAGMENT, status=422, **staff(values=values, errors=errors))
    return _saved(f"Added {values['role']} {values['username']}.")


@bp.post("/<id:user_id>/<any(disable, enable):change>")
@role_required("admin")
def set_enabled(user_id, change):
    """Disable an account (its sessions stop working) or enable it again."""
    user = _locked(user_id)
    if change == "disable" and str(user.id) == current_user.id:
        db.session.rollback()
        return respond(PAGE, FRAGMENT, status=409,
                       **staff(error="You cannot disable your own account: ask another admin."))
    accounts.set_enabled(user, change == "enable")
    response = _saved(f"{user.username} is {change}d.")
    if change == "disable":
        sockets.sweep()  # its open boards close now here, within SWEEP_SECONDS in other processes
    return response


@bp.post("/<id:user_id>/role")
@role_required("admin")
def set_role(user_id):
    """Give an account another role (field `role`); its sessions end, to log in again."""
    user = _locked(user_id)
    if str(user.id) == current_user.id:
        db.session.rollback()  # an admin demoting the last admin would lock everyone out
        return respond(PAGE, FRAGMENT, status=409,
                       **staff(error="You cannot change your own role: ask another admin."))
    role = request.form.get("role", "")
    try:
        accounts.set_role(user, role)
    except accounts.UserError as error:
        db.session.rollback()
        return respond(PAGE, FRAGMENT, status=422, **staff(error=str(error).capitalize() + "."))
    response = _saved(f"{user.username} is now {role}; their sessions ended, to log in again.")
    sockets.sweep()
    return response


@bp.post("/<id:user_id>/password")
@role_required("admin")
def set_password(user_id):
    """Set a new password (field `password`); the account's other sessions end."""
    user = _locked(user_id)
    try:
        accounts.set_password(user, request.form.get("password", ""))
    except accounts.UserError as error:
        db.session.rollback()
        return respond(PAGE, FRAGMENT, status=422,
                       **staff(error=f"{user.username}: {error}.".replace(": a ", ": A ")))
    yours = str(user.id) == current_user.id
    if yours:
        relogin(user)  # this session carries on; the others end
    response = _saved(f"New password set for {user.username}; "
                      + ("your other sessions ended." if yours else "their sessions ended."))
    sockets.sweep()
    return response


def _locked(user_id: int) -> User:
    user = db.session.execute(select(User).where(User.id == user_id).with_for_update()).scalar_one_or_none()
    if user is None:
        db.session.rollback()  # the lock's transaction (SQLite: the database's write lock)
        abort(404, description=f"No user {user_id}.")
    return user

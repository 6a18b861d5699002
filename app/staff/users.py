"""/users (admin): staff accounts. Add one (app.users.create_user holds the rules),
disable or enable one. A disabled account's sessions stop at its next request, because
the user loader (app/auth) refuses disabled users, and its open boards' sockets are
closed (app/board/sockets.py)."""
from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user
from sqlalchemy import select

from .. import users
from ..auth import role_required
from ..board import sockets
from ..extensions import db
from ..models import User
from . import respond, saved

bp = Blueprint("users", __name__, url_prefix="/users")

PAGE, FRAGMENT = "users/index.html", "users/_staff.html"


def staff(**extra) -> dict:
    accounts = db.session.execute(
        select(User).order_by(User.is_enabled.desc(), User.username)
    ).scalars().all()
    context = {"accounts": accounts, "roles": users.ROLES, "values": {"role": "dispatcher"},
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
        users.create_user(values["username"], role=values["role"], password=request.form.get("password", ""))
    except users.UserError as error:
        db.session.rollback()
        errors = {error.field or "username": str(error).capitalize() + "."}
        return respond(PAGE, FRAGMENT, status=422, **staff(values=values, errors=errors))
    return _saved(f"Added {values['role']} {values['username']}.")


@bp.post("/<int:user_id>/<any(disable, enable):change>")
@role_required("admin")
def set_enabled(user_id, change):
    """Disable an account (its sessions stop working) or enable it again."""
    user = db.session.execute(select(User).where(User.id == user_id).with_for_update()).scalar_one_or_none()
    if user is None:
        abort(404, description=f"No user {user_id}.")
    if change == "disable" and str(user.id) == current_user.id:
        db.session.rollback()
        return respond(PAGE, FRAGMENT, status=409,
                       **staff(error="You cannot disable your own account: ask another admin."))
    user.is_enabled = change == "enable"
    response = _saved(f"{user.username} is {change}d.")
    if change == "disable":
        sockets.sweep()  # its open boards close now here, within SWEEP_SECONDS in other processes
    return response

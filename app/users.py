"""Staff accounts: creation, password checks, roles."""
from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .models import User

ROLES = ("dispatcher", "manager", "admin")
# What each role may do on top of the one below it.
RANK = {role: i for i, role in enumerate(ROLES)}


class UserError(ValueError):
    """A refused account change; `field` names the form field at fault (for inline errors)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def create_user(username: str, *, role: str, password: str) -> User:
    username = (username or "").strip()
    if not username or len(username) > 80:
        raise UserError("a username is 1 to 80 characters", "username")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}", "role")
    if len(password or "") < 8:
        raise UserError("a password is at least 8 characters", "password")
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise UserError(f"user {username!r} already exists", "username")
    user = User(username=username, role=role, password_hash=generate_password_hash(password))
    db.session.add(user)
    return user


def authenticate(username: str, password: str) -> User | None:
    user = db.session.execute(select(User).where(User.username == (username or "").strip())).scalar_one_or_none()
    if user is None or not user.is_enabled or not check_password_hash(user.password_hash, password or ""):
        return None
    return user


def has_role(user: User, role: str) -> bool:
    """True when `user` is `role` or above (admin > manager > dispatcher)."""
    return RANK.get(user.role, -1) >= RANK[role]

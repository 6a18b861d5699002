"""Staff accounts: creation, password checks, roles."""
from __future__ import annotations

import secrets

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..infra import cooperative
from ..models import User

ROLES = ("dispatcher", "manager", "admin")
# What each role may do on top of the one below it.
RANK = {role: i for i, role in enumerate(ROLES)}


class UserError(ValueError):
    """A refused account change; `field` names the form field at fault (for inline errors)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}", "role")


def _check_password(password: str) -> None:
    if len(password or "") < 8:
        raise UserError("a password is at least 8 characters", "password")


def find(username: str) -> User | None:
    """The account named `username`, in any case ("DISP" finds "disp")."""
    name = (username or "").strip()
    return db.session.execute(
        select(User).where(func.lower(User.username) == name.lower()).order_by(User.id).limit(1)
    ).scalar_one_or_none()


def create_user(username: str, *, role: str, password: str) -> User:
    username = (username or "").strip()
    if not username or len(username) > 80:
        raise UserError("a username is 1 to 80 characters", "username")
    _check_role(role)
    _check_password(password)
    # Case-insensitive: "DISP" next to "disp" would be two accounts people cannot tell apart
    # (and login accepts either case). A check, not a unique index on lower(username): two
    # admins adding "Nia" and "nia" in the same instant could both pass it; the plain unique
    # index on username still refuses two identical names.
    taken = find(username)
    if taken is not None:
        same = "" if taken.username == username else f" (as {taken.username!r}; names ignore case)"
        raise UserError(f"user {username!r} already exists{same}", "username")
    user = User(username=username, role=role, password_hash=_hashed(password))
    db.session.add(user)
    return user


def end_sessions(user: User) -> None:
    """Every session signed in to `user` so far stops working (app/auth compares this)."""
    user.session_version = (user.session_version or 0) + 1


def set_role(user: User, role: str) -> None:
    """A new role; the account's sessions end (each is signed in again, under the new role)."""
    _check_role(role)
    if user.role != role:
        user.role = role
        end_sessions(user)


def set_password(user: User, password: str) -> None:
    """A new password; every session signed in with the old one ends."""
    _check_password(password)
    user.password_hash = _hashed(password)
    end_sessions(user)


def set_enabled(user: User, enabled: bool) -> None:
    """A disable ends the account's sessions for good: enabling it again needs a new login."""
    if user.is_enabled and not enabled:
        end_sessions(user)
    user.is_enabled = enabled


def _hashed(password: str) -> str:
    # A password hash is ~100 ms of CPU in C that lets go of the GIL: off the serving loop.
    return cooperative.off_the_loop(generate_password_hash, password)


# A hash of nothing anyone knows, made the way real ones are (per hasher: tests swap in a
# cheap one), so an unknown or disabled account costs the same check as a wrong password.
_DUMMY_HASHES: dict = {}


def _dummy_hash() -> str:
    found = _DUMMY_HASHES.get(generate_password_hash)
    if found is None:
        found = _DUMMY_HASHES[generate_password_hash] = _hashed(secrets.token_hex(16))
    return found


def authenticate(username: str, password: str) -> User | None:
    """The account, when `password` is its own and it is enabled. Every answer costs one
    password hash: how long it takes must not tell which usernames exist (contract §3.6)."""
    dummy = _dummy_hash()  # made (once) before the lookup: the first login of either kind pays it
    user = find(username)
    usable = user is not None and user.is_enabled
    matches = cooperative.off_the_loop(check_password_hash, user.password_hash if usable else dummy, password or "")
    return user if usable and matches else None


def has_role(user: User, role: str) -> bool:
    """True when `user` is `role` or above (admin > manager > dispatcher)."""
    return RANK.get(user.role, -1) >= RANK[role]

"""Couriers' phone links (contract §3.5): the secret in `/c/<token>`, what the page behind it
shows and does, and where each courier was last seen.

The token is the only secret a courier's phone holds, so it is kept as its sha256 only: a
token from `secrets.token_urlsafe(32)` has 256 random bits, so a fast hash is enough (no
salt or slow hash needed: nobody can guess their way back to it), and it lets a request
find its courier by one indexed lookup. Tokens never reach the logs; `log_id` is a short
hash prefix that says which link was used without revealing it."""
from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from . import actions, orders
from ..domain.lifecycle import TERMINAL
from ..extensions import db
from ..infra import clock
from ..models import Courier, DedupeKey, Order

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 64  # token_urlsafe(32) is 43 characters; anything far longer is no token
SEEN_EVERY = timedelta(seconds=60)  # seen_at is rewritten at most this often: polls stay reads


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def log_id(token: str) -> str:
    """What the logs may say about a token: a prefix of its hash."""
    return hash_token(token[:MAX_TOKEN_LENGTH])[:8]  # only as much as a link holds is hashed


def make_link(courier: Courier) -> str:
    """A new token for the courier; the old one stops working at once (one hash per courier).
    The caller commits; the token is returned once and kept nowhere."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    courier.link_hash = hash_token(token)
    courier.link_made_at = clock.now()
    return token


def revoke(courier: Courier) -> bool:
    """Whether there was a link to revoke. The caller commits."""
    had = courier.link_hash is not None
    courier.link_hash = None
    courier.link_made_at = None
    return had


def courier_for(token: str) -> Optional[Courier]:
    """The active courier whose link this is, or None. The same work for any token, well
    formed or not, known or not: hash it, one lookup by the unique hash."""
    too_long = len(token) > MAX_TOKEN_LENGTH
    # A token too long is looked up as "" (no link hashes to that): the same one query.
    digest = hash_token("" if too_long else token)
    courier = db.session.execute(select(Courier).where(Courier.link_hash == digest)).scalar_one_or_none()
    if courier is None or not courier.is_active or too_long:
        return None
    return courier


def open_orders(courier_id: int) -> list[Order]:
    """The courier's orders still to carry, oldest change first, with their stores."""
    return list(db.session.execute(
        select(Order).options(joinedload(Order.store))
        .where(Order.courier_id == courier_id, Order.state.not_in(TERMINAL))
        .order_by(Order.state_changed_at, Order.id)
    ).scalars())


def fingerprint(courier: Courier, carried: list[Order]) -> str:
    """Changes whenever what the page shows would: the ETag of the courier's order list."""
    parts = [str(courier.id)] + [f"{order.id}\x00{order.version}" for order in carried]
    return hashlib.sha256("\x01".join(parts).encode()).hexdigest()[:32]


class TapRefused(Exception):
    """A tap that changed nothing: `status` is the HTTP answer, the message says why."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def tap(courier: Courier, order_id: str, status: str, tap_id: str) -> bool:
    """Apply a courier's tap as a staff post is applied (lifecycle, audit as `courier:<id>`,
    OneTablet told, boards pushed). A tap the phone re-sends (same `tap_id`, made on the
    phone) is applied once: its key is written in the change's own transaction, so either
    both are kept or neither. Returns False for a repeat. Commits."""
    key = f"tap:{courier.id}:{tap_id}"
    earlier = db.session.get(DedupeKey, key)
    if earlier is not None:
        db.session.rollback()
        if earlier.status_code >= 400:
            raise TapRefused("this tap was already refused", earlier.status_code)
        return False
    # Locked now, and by actions again in this same transaction: a reassignment to another
    # courier cannot slip in between this check and the change.
    order = orders.get_for_update(order_id)
    if order is None or order.courier_id != courier.id:
        db.session.rollback()
        # Someone else's order and no order at all look the same from a phone.
        raise TapRefused("no such order among yours", 404)
    db.session.add(DedupeKey(key=key, status_code=200))
    try:
        db.session.flush()
    except IntegrityError:  # the same tap, sent twice at once, got there first
        db.session.rollback()
        return False
    try:
        actions.courier_status(order_id, status=status, actor=f"courier:{courier.id}")
    except actions.ActionError as refused:
        # The refusal was audited and committed with the key (status 200 then): mark the key
        # so a re-sent copy is answered the same way.
        _answer_again(key, refused.status)
        raise TapRefused(str(refused), refused.status) from None
    return True


def _answer_again(key: str, status: int) -> None:
    kept = db.session.get(DedupeKey, key)
    if kept is not None:
        kept.status_code = status
        db.session.commit()


def seen(courier: Courier) -> None:
    """The phone asked for something: note it, at most once a minute (a write per poll
    would make every poll a write). Commits when it writes."""
    now = clock.now()
    if courier.seen_at is None or now - courier.seen_at >= SEEN_EVERY:
        courier.seen_at = now
        db.session.commit()


def record_position(courier: Courier, latitude: float, longitude: float) -> None:
    """The phone's position, shared by the courier. Commits."""
    now = clock.now()
    courier.latitude, courier.longitude = latitude, longitude
    courier.position_at = courier.seen_at = now
    db.session.commit()


def valid_position(latitude, longitude) -> Optional[str]:
    """What is wrong with a reported position, or None."""
    for name, value, limit in (("latitude", latitude, 90), ("longitude", longitude, 180)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{name} must be a number"
        # Compared before any float(): a JSON integer may be 400 digits long.
        if not -limit <= value <= limit or not math.isfinite(value):
            return f"{name} must be between -{limit} and {limit}"
    return None


@dataclass
class Presence:
    """Where a courier is as far as Passline knows: when their phone last asked, and their
    last shared position with its age."""

    courier_id: int
    seen_at: Optional[datetime]
    latitude: Optional[float]
    longitude: Optional[float]
    position_at: Optional[datetime]
    has_link: bool

    def seen_ago(self, now: Optional[datetime] = None) -> Optional[str]:
        return ago(self.seen_at, now or clock.now())

    def position_ago(self, now: Optional[datetime] = None) -> Optional[str]:
        return ago(self.position_at, now or clock.now())

    @property
    def position(self) -> Optional[str]:
        if self.latitude is None or self.longitude is None:
            return None
        return f"{self.latitude:.5f}, {self.longitude:.5f}"


def presence_of(courier: Courier) -> Presence:
    """The courier's presence, read from the row already loaded: what the board's courier
    panel and /couriers show beside each courier, with no query of its own."""
    return Presence(courier.id, courier.seen_at, courier.latitude, courier.longitude, courier.position_at,
                    courier.link_hash is not None)


def ago(when: Optional[datetime], now: datetime) -> Optional[str]:
    """'just now', '4 min ago', '2 h ago', '3 days ago' — or None for never."""
    if when is None:
        return None
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"

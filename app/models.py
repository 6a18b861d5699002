"""SQLAlchemy models: every table Passline keeps.

Money is integer cents. Timestamps are aware UTC (UTCDateTime). Nothing here holds a
business rule: the order lifecycle lives in app/domain/lifecycle.py.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.ext.associationproxy import association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from .infra import clock
from .infra.db import UTCDateTime
from .extensions import db


def _now():
    """clock.now looked up at each insert, so a test that sets the clock moves defaults too."""
    return clock.now()


ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite only autoincrements INTEGER
OVERDUE_EVENTS = "event IN ('overdue', 'overdue_escalated')"  # the scheduler's audit rows


class Store(db.Model):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_supplied_id: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    # False while `timezone` is the default guess: an order's store.timezone may fill it in
    # then, never once an admin, the demo or an earlier order has set it (see below).
    timezone_set: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    pause_reason: Mapped[Optional[str]] = mapped_column(Text)
    resume_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Webhook timestamp of the last status applied: an older one arriving late is ignored.
    status_as_of: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    menu_as_of: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, onupdate=_now)

    items: Mapped[list[MenuItem]] = relationship(
        back_populates="store", cascade="all, delete-orphan", order_by="MenuItem.position"
    )

    @validates("timezone")
    def _timezone_is_set(self, _key, value):
        """Whoever names a time zone sets it; a store created without one keeps the guess."""
        self.timezone_set = True
        return value


class MenuItem(db.Model):
    __tablename__ = "menu_items"
    __table_args__ = (UniqueConstraint("store_id", "merchant_supplied_id"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    merchant_supplied_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    category: Mapped[str] = mapped_column(String(255), default="")
    price: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # False = 86'd. Kept when the menu is replaced, so an 86 survives a menu push.
    is_available: Mapped[bool] = mapped_column(Boolean, default=True)
    on_menu: Mapped[bool] = mapped_column(Boolean, default=True)
    availability_as_of: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    store: Mapped[Store] = relationship(back_populates="items")


class Courier(db.Model):
    __tablename__ = "couriers"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str] = mapped_column(String(64), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    # The phone link (contract §3.5): sha256 of its secret token, never the token itself;
    # NULL when the courier has none (revoked, deactivated, never made).
    link_hash: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    link_made_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Presence, as the phone reports it: its last request, and its last position (shared
    # only with the courier's consent) with the time it was taken.
    seen_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    latitude: Mapped[Optional[float]] = mapped_column(Float)
    longitude: Mapped[Optional[float]] = mapped_column(Float)
    position_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))  # dispatcher | manager | admin
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # In every session of this account (app/auth): raised by a new password, a new role and
    # a disable (app/services/accounts.py), which ends every session signed in before it, for good.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_state_changed", "state", "state_changed_at"),
        Index("ix_orders_store_created", "store_id", "created_at"),
        # Only orders that have a courier: a change to any other order (most flags, most
        # webhooks) writes no entry here. Courier lookups all ask for a given courier.
        Index("ix_orders_courier_id", "courier_id", postgresql_where=text("courier_id IS NOT NULL"),
              sqlite_where=text("courier_id IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    state: Mapped[str] = mapped_column(String(20))  # indexed by ix_orders_state_changed
    fulfillment_type: Mapped[str] = mapped_column(String(32))
    # The platform's order exactly as received (forwarded to OneTablet whole) is kept in
    # order_payloads: written once, read by the detail page, while the order row is
    # rewritten at every change. Off the row, each change copies a few hundred bytes
    # instead of a kilobyte (a thousand overdue flags in one tick, every webhook).
    payload = association_proxy("body", "payload", creator=lambda payload: OrderPayload(payload=payload))
    payload_hash: Mapped[str] = mapped_column(String(64))
    customer_first_name: Mapped[str] = mapped_column(String(255), default="")
    customer_name: Mapped[str] = mapped_column(String(512), default="")
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    subtotal: Mapped[int] = mapped_column(Integer, default=0)
    tax: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)

    merchant_supplied_id: Mapped[Optional[str]] = mapped_column(String(255))  # restaurant's id
    client_order_id: Mapped[Optional[str]] = mapped_column(String(255))  # OneTablet's id
    prep_time: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)  # restaurant's ready time
    # When OneTablet sent that prep_time (webhook-timestamp): an older one arriving later
    # is ignored, as a store's status is (status_as_of).
    prep_time_sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    failure_reason: Mapped[Optional[str]] = mapped_column(Text)
    cancel_reason: Mapped[Optional[str]] = mapped_column(String(64))
    cancel_details: Mapped[Optional[str]] = mapped_column(Text)
    cancelled_by: Mapped[Optional[str]] = mapped_column(String(255))

    courier_id: Mapped[Optional[int]] = mapped_column(ForeignKey("couriers.id"))  # ix_orders_courier_id
    courier_status: Mapped[Optional[str]] = mapped_column(String(32))

    # Every change bumps the version; live updates carry it so browsers drop stale ones.
    version: Mapped[int] = mapped_column(Integer, default=1)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    confirmed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    ready_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    in_transit_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)  # entered a terminal state

    # Time limits (contract §2), kept by the lifecycle at every transition.
    deadline_limit: Mapped[Optional[str]] = mapped_column(String(32))
    deadline_started_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    deadline_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # When the scheduler must next look at this order (deadline, then 2x the limit),
    # NULL when nothing is pending: the overdue tick reads only `next_alarm_at <= now`.
    next_alarm_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime, index=True)
    overdue_limit: Mapped[Optional[str]] = mapped_column(String(32))
    overdue_level: Mapped[int] = mapped_column(Integer, default=0)  # 0 none, 1 overdue, 2 escalated
    overdue_since: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Set when staff open or acknowledge the order: the board stops repeating its alarm.
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    body: Mapped[OrderPayload] = relationship(cascade="all, delete-orphan")
    store: Mapped[Store] = relationship()
    courier: Mapped[Optional[Courier]] = relationship()
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", order_by="OrderEvent.id", viewonly=True
    )


class OrderPayload(db.Model):
    """An order as the customer app sent it (Order.payload reads and writes it)."""

    __tablename__ = "order_payloads"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class OrderEvent(db.Model):
    """The audit trail: one row per change. Never updated, never deleted."""

    __tablename__ = "order_events"
    # Reports count overdue rows by limit: a small partial index holds only those rows.
    __table_args__ = (Index("ix_order_events_overdue_at", "at", postgresql_where=text(OVERDUE_EVENTS),
                            sqlite_where=text(OVERDUE_EVENTS)),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # reports read overdue rows by ix_order_events_overdue_at
    actor: Mapped[str] = mapped_column(String(255))  # onetablet | staff:<name> | scheduler | customer_app
    event: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[Optional[str]] = mapped_column(String(20))  # NULL on creation
    to_state: Mapped[str] = mapped_column(String(20))
    implied: Mapped[bool] = mapped_column(Boolean, default=False)
    refused: Mapped[bool] = mapped_column(Boolean, default=False)  # a 409: recorded, nothing moved
    # What else changed, as {"field": [old, new]} (courier, courier_status, overdue...).
    detail: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    payload: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)

    order: Mapped[Order] = relationship(back_populates="events")


class DedupeKey(db.Model):
    """Keys of events already handled. The primary key is the duplicate check: two
    deliveries racing each other cannot both insert it."""

    __tablename__ = "dedupe_keys"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, index=True)  # for retention
    # The HTTP status the first delivery got, so a duplicate is answered the same way.
    status_code: Mapped[int] = mapped_column(Integer, default=200)


class WebhookReceipt(db.Model):
    """Every webhook received, raw, with its verdict: what OneTablet told us."""

    __tablename__ = "webhook_receipts"
    __table_args__ = (Index("ix_webhook_receipts_order_received", "order_id", "received_at"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now, index=True)
    webhook_id: Mapped[Optional[str]] = mapped_column(String(255), index=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[Optional[str]] = mapped_column(String(64))
    order_id: Mapped[Optional[str]] = mapped_column(String(255))
    store_ref: Mapped[Optional[str]] = mapped_column(String(255))
    headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    # As received (undecodable bytes escaped); None when not kept: the request failed
    # authentication, and anyone can send those (app/infra/refusals.py).
    body: Mapped[Optional[str]] = mapped_column(Text)
    body_size: Mapped[Optional[int]] = mapped_column(Integer)  # bytes read, or declared when not read
    # Set on a refused unauthenticated request only: its place in the ring that bounds them.
    refused_slot: Mapped[Optional[int]] = mapped_column(Integer, unique=True)
    verdict: Mapped[str] = mapped_column(String(20))  # applied | duplicate | refused | failed (ours: a 500)
    status_code: Mapped[int] = mapped_column(Integer)
    error: Mapped[Optional[str]] = mapped_column(String(64))
    detail: Mapped[Optional[str]] = mapped_column(Text)


class OutboxMessage(db.Model):
    """A call Passline owes another system, written in the same transaction as the
    change that causes it and sent by the outbox worker."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    target: Mapped[str] = mapped_column(String(20))  # onetablet | customer
    kind: Mapped[str] = mapped_column(String(64))  # create_order | delivery_status | cancel | notify
    order_id: Mapped[Optional[str]] = mapped_column(ForeignKey("orders.id"), index=True)
    method: Mapped[str] = mapped_column(String(10), default="POST")
    path: Mapped[str] = mapped_column(String(1024))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    locked_by: Mapped[Optional[str]] = mapped_column(String(64))
    locked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_status_code: Mapped[Optional[int]] = mapped_column(Integer)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    response: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    failed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    order: Mapped[Optional[Order]] = relationship()  # also orders the INSERTs: order first


class Refund(db.Model):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | processed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_now)
    processed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    processed_by: Mapped[Optional[str]] = mapped_column(String(255))

    order: Mapped[Order] = relationship()


class Heartbeat(db.Model):
    """When a scheduled job last ran, one row per job, rewritten by each run: /healthz and
    the board say so when the overdue tick has stopped (no scheduler running)."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # the job: overdue | retention
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(255))  # host:pid of the process that ran it

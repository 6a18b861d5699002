"""Receive a webhook: verify, parse, validate, dedupe, apply through the lifecycle, answer.

Every authenticated webhook, whatever its fate, is kept raw in `webhook_receipts` with its
verdict; one that fails authentication leaves a small record without its body, and only
so many of those (app/infra/refusals.py).
Duplicates are caught by inserting their keys into `dedupe_keys` (primary key): one key
for the `webhook-id` (stable across OneTablet's retries) and, for order events, one for
the content (the same event re-sent under a new id)."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

from flask import current_app, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from ..infra import clock, refusals
from ..services import orders
from ..infra.bodies import BadBody, json_object, raw_body
from ..infra.errors import CODES
from ..extensions import db
from ..domain.lifecycle import Command
from ..models import DedupeKey, WebhookReceipt
from ..infra.validation import describe, storable, unstorable
from ..infra import signing

ACTOR = "onetablet"
TOO_LARGE = CODES[413]
_KEPT_HEADERS = ("content-type", "content-length", "user-agent", "webhook-id", "webhook-timestamp",
                 "webhook-signature", "x-forwarded-for")


class Refusal(Exception):
    def __init__(self, status: int, error: str, detail: str):
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


class Received:
    """One webhook being handled: its raw form, what it concerns, and its receipt."""

    def __init__(self, kind: str, *, order_id=None, store_ref=None):
        self.kind, self.order_id, self.store_ref = kind, order_id, store_ref
        self.webhook_id = request.headers.get("webhook-id")
        self.data, self.raw, self.keys = None, None, []
        self.size = request.content_length  # what it says it holds, until it is read
        self.authenticated = False

    def authenticate(self) -> None:
        """Everything a stranger can make us do, cheapest first: the headers (no byte of the
        body read), the declared size (413 unread), then the signature over at most 1 MiB."""
        secret = current_app.config.get("ONETABLET_WEBHOOK_SECRET")
        if not secret:
            raise Refusal(503, "not_configured", "ONETABLET_WEBHOOK_SECRET is not set on this server")
        try:
            signing.check_headers(request.headers)
            try:
                self.raw = raw_body()
            except RequestEntityTooLarge:
                raise Refusal(413, *TOO_LARGE) from None
            self.size = len(self.raw)
            self.webhook_id = signing.verify(secret, self.raw, request.headers)
        except signing.BadSignature as error:
            raise Refusal(401, "bad_signature", f"signature check failed: {error}") from None
        self.authenticated = True
        if unstorable(self.order_id) or unstorable(self.store_ref):  # no id holds U+0000
            raise Refusal(404, "unknown_order" if self.order_id else "unknown_store",
                          f"no {'order' if self.order_id else 'store'} with id {self.order_id or self.store_ref!r}")

    def parse(self, schema: type[BaseModel]) -> BaseModel:
        try:
            self.data = json_object(self.raw)
        except BadBody as error:
            raise Refusal(error.status, "not_json" if error.status == 400 else "invalid_payload",
                          error.detail) from None
        try:
            return schema.model_validate(self.data)
        except ValidationError as error:
            raise Refusal(422, "invalid_payload", describe(error)) from None

    @property
    def sent_at(self) -> datetime:
        """OneTablet's own timestamp: what orders store updates that arrive out of order."""
        return datetime.fromtimestamp(int(float(request.headers["webhook-timestamp"])), timezone.utc)

    def claim(self, *, by_content: bool) -> DedupeKey | None:
        """Insert this event's dedupe keys; return the first delivery's key if it is a duplicate.

        One `INSERT … ON CONFLICT DO NOTHING RETURNING`: the keys it could not insert were
        there already (a racing delivery waits for the first one's transaction to end).
        A delivery that is a duplicate by one key leaves none of its keys behind, so a key
        never stands for an event that was not applied."""
        keys = [_digest("wh", self.webhook_id)]
        if by_content:
            canonical = json.dumps(self.data, sort_keys=True, separators=(",", ":"))
            keys.append(_digest("ev", self.order_id, self.kind, canonical))
        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        now = clock.now()
        # The keys go as parameters of one fixed statement (SQLAlchemy's "insertmanyvalues"
        # batches them into one INSERT): its SQL is compiled once and cached, where
        # .values([...]) would compile a new statement on every webhook.
        # On the session's connection, as Core: the ORM's bulk-insert layer would cost this
        # hot path more than the statement itself, and nothing here needs ORM objects.
        keys_table = DedupeKey.__table__
        inserted = db.session.connection().execute(
            dialect.insert(keys_table).on_conflict_do_nothing(index_elements=["key"]).returning(keys_table.c.key),
            [{"key": k, "created_at": now, "status_code": 200} for k in keys],
        ).scalars().all()
        if len(inserted) == len(keys):
            self.keys = keys
            return None
        if inserted:
            db.session.execute(delete(DedupeKey).where(DedupeKey.key.in_(inserted)))
        return db.session.execute(
            select(DedupeKey).where(DedupeKey.key.in_(keys)).order_by(DedupeKey.created_at)
        ).scalars().first()

    def receipt(self, status: int, verdict: str, error=None, detail=None) -> None:
        if status != 200 and self.keys:  # the keys were inserted as 200
            db.session.execute(update(DedupeKey).where(DedupeKey.key.in_(self.keys)).values(status_code=status))
        slot = None
        if not self.authenticated:  # anyone can send these: a small record, and few (app/infra/refusals.py)
            now = int(clock.now().timestamp())
            passed_over = refusals.throttle("webhooks").take(now)
            if passed_over is None:
                return None
            detail = (detail or "") + refusals.passed_over_note(passed_over)
            # Logged: a secret rotated on one side only shows here (and in /webhooks) first.
            current_app.logger.warning("webhook %s on %s refused (%s): %s", self.kind,
                                       refusals.short(request.path), status, detail)
            slot = now % refusals.SLOTS
            db.session.execute(delete(WebhookReceipt).where(WebhookReceipt.refused_slot == slot))
        # storable(): whatever was sent is kept, even U+0000 that PostgreSQL text refuses.
        # A Core insert on the session's connection (in its transaction): nothing reads the
        # receipt back as an object, and the ORM's unit of work would cost more than the row.
        db.session.connection().execute(insert(WebhookReceipt.__table__), dict(
            webhook_id=storable(refusals.short(self.webhook_id)) or None,
            method=request.method,
            path=storable(request.path[:1024]),
            kind=self.kind,
            order_id=storable((self.order_id or "")[:255]) or None,
            store_ref=storable((self.store_ref or "")[:255]) or None,
            headers={k.lower(): storable(refusals.short(v)) for k, v in request.headers.items()
                     if k.lower() in _KEPT_HEADERS},
            body=storable(self.raw.decode("utf-8", "backslashreplace")) if self.authenticated else None,
            body_size=self.size,
            refused_slot=slot,
            verdict=verdict,
            status_code=status,
            error=error,
            detail=storable(detail),
        ))


def _digest(*parts: str) -> str:
    return parts[0] + ":" + hashlib.sha256("\x1f".join(parts[1:]).encode()).hexdigest()


def answer(received: Received, status: int, verdict: str, error=None, detail=None):
    received.receipt(status, verdict, error, detail)
    try:
        db.session.commit()
    except IntegrityError:
        if received.authenticated:
            raise
        db.session.rollback()  # another process kept a refusal in this second's slot: enough
    if error:
        return jsonify(error=error, detail=detail), status
    return jsonify(status=verdict, detail=detail), status


def handle(kind: str, schema, apply, **refs):
    """Run one webhook; `apply(received, body)` does the work and returns the answer."""
    received = Received(kind, **refs)
    try:
        received.authenticate()
        body = received.parse(schema)
        return apply(received, body)
    except Refusal as refusal:
        db.session.rollback()
        return answer(received, refusal.status, "refused", refusal.error, refusal.detail)
    except Exception:
        # A fault of ours: the change is rolled back, OneTablet retries (a 5xx), and the
        # webhook is still kept in the log, raw, to be seen and replayed.
        db.session.rollback()
        current_app.logger.exception("webhook %s on %s failed", kind, refusals.short(request.path))
        try:
            return answer(received, 500, "failed", "internal_error",
                           "an unexpected error; nothing was applied, and it has been logged")
        except Exception:
            db.session.rollback()
            raise  # not even the receipt could be written (the database is down): a plain 500


def order_event(received: Received, command: Command):
    order = orders.get_for_update(received.order_id)
    if order is None:
        raise Refusal(404, "unknown_order", f"no order with id {received.order_id!r}")
    first = received.claim(by_content=True)
    if first is not None:
        if first.status_code == 200:
            return answer(received, 200, "duplicate", None, "already received; applied once")
        # The same answer as the first delivery got, as an error body: it was not applied.
        return answer(received, first.status_code, "duplicate", "duplicate",
                       f"already received, and refused then ({first.status_code}): not applied")
    outcome = orders.apply(order, command, actor=ACTOR, payload=received.data)
    if outcome.refused:
        return answer(received, 409, "refused", "forbidden", outcome.refused)
    if not outcome.changed:
        return answer(received, 200, "duplicate", None, f"nothing new: the order is {order.state}")
    if any(change.detail.get("stale") for change in outcome.changes):
        return answer(received, 200, "applied", None,
                       f"stale: its prep_time was sent before the one kept, and is ignored; order is {order.state}")
    if all(change.detail.get("late") for change in outcome.changes):
        return answer(received, 200, "applied", None, f"late: its data is kept, the order stays {order.state}")
    return answer(received, 200, "applied", None, f"order is {order.state}")

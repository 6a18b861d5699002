"""The order lifecycle (contract §1 and §2): states, transitions, time limits, audit entries.

Plain Python, no Flask and no database: every entry point (webhook, staff form,
scheduler, API) loads an order, calls one method here, and writes the returned
`Change`s as audit rows. A method either returns the changes it made to the order
(an empty list when the event changes nothing: a duplicate) or raises `Forbidden`
having changed nothing — except the restaurant's own order id, which a refused
rejection still keeps when Passline has none (listed in `Forbidden.kept`).

An order is any object with the attributes of `app.models.Order` that are used here
(tests use a plain dataclass).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Optional

SUBMITTED = "submitted"
CONFIRMED = "confirmed"
REJECTED = "rejected"
READY = "ready"
IN_TRANSIT = "in_transit"
COMPLETED = "completed"
CANCELLED = "cancelled"

STATES = (SUBMITTED, CONFIRMED, REJECTED, READY, IN_TRANSIT, COMPLETED, CANCELLED)
TERMINAL = frozenset({REJECTED, COMPLETED, CANCELLED})
# The forward path; rejected and cancelled leave it sideways.
PATH = (SUBMITTED, CONFIRMED, READY, IN_TRANSIT, COMPLETED)

COURIER_STATUSES = (
    "dasher_confirmed",
    "arriving_at_store",
    "arrived_at_store",
    "dasher_out_for_delivery",
    "dropoff",
)
OUT_FOR_DELIVERY = "dasher_out_for_delivery"
DROPOFF = "dropoff"

FULFILLMENT_TYPES = ("pickup", "dx_delivery", "mx_fleet_delivery")
DELIVERY_TYPES = frozenset({"dx_delivery", "mx_fleet_delivery"})
CANCEL_REASONS = ("ITEM_OUT_OF_STOCK", "STORE_CLOSED", "KITCHEN_BUSY", "OTHER")
LIMITS = ("confirmation", "preparation", "courier_pickup", "customer_pickup", "delivery")


class Forbidden(Exception):
    """The rules forbid this event (answered 409); nothing was changed but `kept`, the
    restaurant data it still recorded (audited on the refusal's row)."""

    def __init__(self, message: str, kept: Optional[dict[str, Any]] = None):
        super().__init__(message)
        self.kept = kept or {}


@dataclass(frozen=True)
class Change:
    """One audit entry: what happened, the state before and after, and what else moved."""

    event: str
    from_state: Optional[str]
    to_state: str
    implied: bool = False
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TimeLimits:
    """contract §2. `preparation` applies when the restaurant gave no prep_time; when it
    did, the limit is that time plus `preparation_grace`."""

    confirmation: timedelta = timedelta(minutes=5)
    preparation: timedelta = timedelta(minutes=20)
    preparation_grace: timedelta = timedelta(minutes=5)
    courier_pickup: timedelta = timedelta(minutes=15)
    customer_pickup: timedelta = timedelta(minutes=30)
    delivery: timedelta = timedelta(minutes=45)


def is_delivery(order) -> bool:
    return order.fulfillment_type in DELIVERY_TYPES


def _iso(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() if value else None


# --- commands: what may happen to an order, one handler each -----------------------
# Every change to an order is one of these, handed to `Lifecycle.handle`. `event` is the
# audit event a refusal of the command is recorded under.

@dataclass(frozen=True)
class Submit:
    """A new order from the customer app."""
    event: ClassVar[str] = "submitted"


@dataclass(frozen=True)
class Confirm:
    """The restaurant accepted. `prep_time` is a time, or minutes counted from `sent_at`
    (when OneTablet sent it, the webhook's timestamp)."""
    merchant_supplied_id: Optional[str] = None
    prep_time: Optional[datetime | int] = None
    sent_at: Optional[datetime] = None
    event: ClassVar[str] = "confirmed"


@dataclass(frozen=True)
class Reject:
    """The restaurant declined."""
    merchant_supplied_id: Optional[str] = None
    reason: Optional[str] = None
    event: ClassVar[str] = "rejected"


@dataclass(frozen=True)
class Ready:
    merchant_supplied_id: Optional[str] = None
    event: ClassVar[str] = "ready"


@dataclass(frozen=True)
class Cancel:
    reason: str
    by: str
    details: Optional[str] = None
    event: ClassVar[str] = "cancelled"


@dataclass(frozen=True)
class AssignCourier:
    courier_id: int
    event: ClassVar[str] = "courier_assigned"


@dataclass(frozen=True)
class PostCourierStatus:
    status: str
    event: ClassVar[str] = "courier_status"


@dataclass(frozen=True)
class PickUp:
    """Staff mark a pickup order collected."""
    event: ClassVar[str] = "picked_up"


@dataclass(frozen=True)
class Override:
    to_state: str
    reason: str
    by: str
    event: ClassVar[str] = "override"


@dataclass(frozen=True)
class CheckOverdue:
    event: ClassVar[str] = "overdue"


@dataclass(frozen=True)
class Acknowledge:
    """Someone looked at the order: the board stops repeating its alarm."""
    event: ClassVar[str] = "acknowledged"


@dataclass(frozen=True)
class CallGaveUp:
    """A call Passline owed (to OneTablet or the customer app) failed for good."""
    kind: str
    detail: dict
    reason: str
    event: ClassVar[str] = "call_failed"


@dataclass(frozen=True)
class RetryCall:
    """Staff send a failed call again."""
    kind: str
    detail: dict
    event: ClassVar[str] = "call_retried"


@dataclass(frozen=True)
class RefundProcessed:
    """The money went back to the customer (the state does not move)."""
    amount: int
    event: ClassVar[str] = "refund_processed"


Command = (Submit | Confirm | Reject | Ready | Cancel | AssignCourier | PostCourierStatus | PickUp | Override
           | CheckOverdue | Acknowledge | CallGaveUp | RetryCall | RefundProcessed)


class Lifecycle:
    def __init__(self, limits: TimeLimits = TimeLimits()):
        self.limits = limits
        self._handlers = {
            Submit: self._submit, Confirm: self._confirm, Reject: self._reject, Ready: self._ready,
            Cancel: self._cancel, AssignCourier: self._assign_courier, PostCourierStatus: self._courier_status,
            PickUp: self._picked_up, Override: self._override, CheckOverdue: self._check_overdue,
            Acknowledge: self._acknowledge, CallGaveUp: self._call_gave_up, RetryCall: self._retry_call,
            RefundProcessed: self._refund_processed,
        }

    def handle(self, order, command: Command, *, now: datetime) -> list[Change]:
        """Apply one command: the changes it made (none for a duplicate), or `Forbidden`.

        The order's version — what a board compares to drop an older card — moves here and
        only here: once per command that changed anything the card shows."""
        try:
            changes = self._handlers[type(command)](order, command, now)
        except Forbidden as refusal:
            if refusal.kept:
                self._bump(order)
            raise
        if changes:
            self._bump(order)
        return changes

    # --- handlers -----------------------------------------------------------------

    def _submit(self, order, _cmd: Submit, now) -> list[Change]:
        order.state = SUBMITTED
        order.created_at = now
        order.state_changed_at = now
        order.overdue_level = 0
        order.version = 0  # handle() makes it 1
        self._set_deadline(order)
        return [Change("submitted", None, SUBMITTED)]

    def _confirm(self, order, cmd: Confirm, now) -> list[Change]:
        """After the order moved on — ready, in transit, and also cancelled or completed (a
        confirmation that crossed the cancellation, or reordered in delivery) — it is a late
        event (contract §1): its data is kept (the restaurant's id, which a cancellation does
        not carry; the prep_time, which moves a deadline only while the order is confirmed)
        and the state stays. A rejected order refuses it: the restaurant declined that one.

        A prep_time sent before the one already kept arrived out of order and is ignored,
        audited as stale."""
        if order.state == REJECTED:
            raise Forbidden(f"order is {order.state}; a confirmation cannot reopen it")
        prep_time = cmd.prep_time
        if isinstance(prep_time, int):  # minutes, counted from when OneTablet sent them
            prep_time = (cmd.sent_at or now) + timedelta(minutes=prep_time)
        detail = self._record_restaurant_data(order, cmd.merchant_supplied_id, prep_time, cmd.sent_at)
        if order.state == SUBMITTED:
            return [self._move(order, CONFIRMED, now, "confirmed", detail=detail)]
        if not detail:
            return []  # already confirmed, nothing new
        if order.state == CONFIRMED:
            if "prep_time" in detail:
                self._set_deadline(order)  # a new promise from the kitchen
        else:
            detail["late"] = True  # arrived after the order moved on: data only
        return [Change("confirmed", order.state, order.state, detail=detail)]

    def _reject(self, order, cmd: Reject, now) -> list[Change]:
        """The restaurant declined (confirmation webhook, `order_status: fail`)."""
        if order.state == REJECTED:
            return []
        if order.state != SUBMITTED:
            # It contradicts what happened (confirmed, or over: cancelled, completed), so it
            # stays refused, keeping only the restaurant's order id if we have none.
            raise Forbidden(
                f"order is already {order.state}; a rejection is only possible before "
                "confirmation (a restaurant that cannot finish an order cancels it)",
                kept=self._keep_unknown_restaurant_id(order, cmd.merchant_supplied_id))
        detail = self._record_restaurant_data(order, cmd.merchant_supplied_id, None)
        return [self._reject_now(order, now, cmd.reason, detail)]

    def _ready(self, order, cmd: Ready, now) -> list[Change]:
        if order.state in (REJECTED, CANCELLED):
            raise Forbidden(f"order is {order.state}; it cannot become ready",
                            kept=self._keep_unknown_restaurant_id(order, cmd.merchant_supplied_id))
        detail = self._record_restaurant_data(order, cmd.merchant_supplied_id, None)
        if order.state in (SUBMITTED, CONFIRMED):
            return self._advance(order, READY, now, "ready", detail=detail)
        if not detail:
            return []
        detail["late"] = True
        return [Change("ready", order.state, order.state, detail=detail)]

    def _cancel(self, order, cmd: Cancel, now) -> list[Change]:
        """Cancelled by the restaurant (webhook) or by staff."""
        if cmd.reason not in CANCEL_REASONS:
            raise Forbidden(f"unknown cancel reason {cmd.reason!r}; one of {', '.join(CANCEL_REASONS)}")
        if order.state == CANCELLED:
            return []
        if order.state in TERMINAL:
            raise Forbidden(f"order is already {order.state}; it cannot be cancelled")
        order.cancel_reason = cmd.reason
        order.cancel_details = cmd.details
        order.cancelled_by = cmd.by
        detail = {"cancel_reason": cmd.reason, "cancel_details": cmd.details, "cancelled_by": cmd.by}
        return [self._move(order, CANCELLED, now, "cancelled", detail=detail)]

    def _assign_courier(self, order, cmd: AssignCourier, now) -> list[Change]:
        """Assign a courier, or reassign one: the new courier starts at dasher_confirmed."""
        if order.courier_id == cmd.courier_id and is_delivery(order) and order.state not in TERMINAL:
            return []
        refusal = self._courier_refusal(order)
        if refusal:
            raise Forbidden(refusal)
        event = "courier_reassigned" if order.courier_id is not None else "courier_assigned"
        detail = {
            "courier_id": [order.courier_id, cmd.courier_id],
            "courier_status": [order.courier_status, COURIER_STATUSES[0]],
        }
        order.courier_id = cmd.courier_id
        order.courier_status = COURIER_STATUSES[0]
        return [Change(event, order.state, order.state, detail=detail)]

    def _courier_status(self, order, cmd: PostCourierStatus, now) -> list[Change]:
        """It only moves forward; skipped statuses are implied. Out for delivery puts the
        order in transit, dropoff completes it."""
        status = cmd.status
        if status not in COURIER_STATUSES:
            raise Forbidden(f"unknown courier status {status!r}; one of {', '.join(COURIER_STATUSES)}")
        if is_delivery(order) and order.courier_id is not None and order.courier_status == status:
            return []
        refusal = self._courier_status_refusal(order, status)
        if refusal:
            raise Forbidden(refusal)
        current = COURIER_STATUSES.index(order.courier_status) if order.courier_status else -1
        target = COURIER_STATUSES.index(status)
        detail = {"courier_status": [order.courier_status, status]}
        skipped = list(COURIER_STATUSES[current + 1 : target])
        if skipped:
            detail["implied_statuses"] = skipped
        order.courier_status = status
        if status == OUT_FOR_DELIVERY:
            return self._advance(order, IN_TRANSIT, now, "courier_status", detail=detail)
        if status == DROPOFF:
            return self._advance(order, COMPLETED, now, "courier_status", detail=detail)
        return [Change("courier_status", order.state, order.state, detail=detail)]

    def _picked_up(self, order, _cmd: PickUp, now) -> list[Change]:
        if is_delivery(order):
            raise Forbidden("a delivery order is completed by its courier's dropoff")
        if order.state == COMPLETED:
            return []
        if order.state in TERMINAL:
            raise Forbidden(f"order is {order.state}; it cannot be picked up")
        if order.state == SUBMITTED:
            raise Forbidden("the restaurant has not confirmed the order yet")
        return self._advance(order, COMPLETED, now, "picked_up")

    def _override(self, order, cmd: Override, now) -> list[Change]:
        """A manager moves the order by hand, past every rule, with a reason. Cancelling
        this way is a staff cancellation (reason OTHER, the manager's words as details)."""
        if cmd.to_state not in STATES:
            raise Forbidden(f"unknown state {cmd.to_state!r}")
        reason = (cmd.reason or "").strip()
        if not reason:
            raise Forbidden("an override needs a reason")
        if cmd.to_state == order.state:
            raise Forbidden(f"order is already {cmd.to_state}")
        if cmd.to_state == CANCELLED:
            order.cancel_reason, order.cancel_details, order.cancelled_by = "OTHER", reason, cmd.by
        elif order.state == CANCELLED:  # reopened: the cancellation no longer stands
            order.cancel_reason = order.cancel_details = order.cancelled_by = None
        return [self._move(order, cmd.to_state, now, "override", detail={"reason": reason})]

    def _check_overdue(self, order, _cmd: CheckOverdue, now) -> list[Change]:
        """Flag the order when its deadline has passed, and escalate it at twice the limit.
        Each level is flagged once; the scheduler reads only orders whose alarm is due."""
        if order.next_alarm_at is None or now < order.next_alarm_at:
            return []
        if order.state in TERMINAL or order.deadline_at is None:
            order.next_alarm_at = None
            return []
        limit = order.deadline_limit
        allowed = order.deadline_at - order.deadline_started_at
        late_by = int((now - order.deadline_at).total_seconds())
        before = order.overdue_level
        if before == 0:
            event, order.overdue_level = "overdue", 1
            order.overdue_limit = limit
            order.overdue_since = order.deadline_at
            order.next_alarm_at = order.deadline_started_at + 2 * allowed
        else:
            event, order.overdue_level = "overdue_escalated", 2
            order.next_alarm_at = None
        order.acknowledged_at = None  # a new alarm wants a new look
        detail = {
            "limit": limit,
            "overdue_level": [before, order.overdue_level],
            "deadline": _iso(order.deadline_at),
            "allowed_minutes": round(allowed.total_seconds() / 60, 2),
            "late_by_seconds": late_by,
        }
        return [Change(event, order.state, order.state, detail=detail)]

    def _acknowledge(self, order, _cmd: Acknowledge, now) -> list[Change]:
        """A second acknowledgement of the same alarm changes nothing."""
        if order.acknowledged_at is not None:
            return []
        order.acknowledged_at = now
        return [Change("acknowledged", order.state, order.state)]

    def _call_gave_up(self, order, cmd: CallGaveUp, now) -> list[Change]:
        """The card shows the failed call; an order OneTablet never took is rejected."""
        changes = [Change("call_failed", order.state, order.state, detail=cmd.detail)]
        if cmd.kind == "create_order" and order.state == SUBMITTED:
            changes.append(self._reject_now(order, now, cmd.reason, {}))
        return changes

    def _retry_call(self, order, cmd: RetryCall, now) -> list[Change]:
        """An order is (re)sent to OneTablet only while it waits for the restaurant."""
        if cmd.kind == "create_order" and order.state != SUBMITTED:
            raise Forbidden(f"order is {order.state}: a manager must override it back to submitted "
                            "before it is sent to OneTablet again")
        return [Change("call_retried", order.state, order.state, detail=cmd.detail)]

    def _refund_processed(self, order, cmd: RefundProcessed, now) -> list[Change]:
        return [Change("refund_processed", order.state, order.state,
                       detail={"refund": ["pending", "processed"], "amount": cmd.amount})]

    # --- rules asked more than once -------------------------------------------------

    @staticmethod
    def _courier_refusal(order) -> Optional[str]:
        """Why no courier can be (re)assigned now, or None."""
        if not is_delivery(order):
            return "a pickup order has no courier"
        if order.state in TERMINAL:
            return f"order is {order.state}; its courier cannot change"
        if order.courier_status in (OUT_FOR_DELIVERY, DROPOFF):
            return "the courier has already picked the order up; it cannot be reassigned"
        return None

    @staticmethod
    def _courier_status_refusal(order, status: str) -> Optional[str]:
        """Why `status` cannot be posted now, or None."""
        if not is_delivery(order):
            return "a pickup order has no courier status"
        if order.courier_id is None:
            return "assign a courier first"
        current = COURIER_STATUSES.index(order.courier_status) if order.courier_status else -1
        if COURIER_STATUSES.index(status) < current:
            return f"courier status cannot go back from {order.courier_status} to {status}"
        if order.state in TERMINAL:
            return f"order is {order.state}; its courier status cannot change"
        if COURIER_STATUSES.index(status) >= COURIER_STATUSES.index(OUT_FOR_DELIVERY) and order.state == SUBMITTED:
            return "the restaurant has not confirmed the order yet"
        return None

    def _reject_now(self, order, now, reason, detail) -> Change:
        order.failure_reason = reason
        return self._move(order, REJECTED, now, "rejected", detail={**detail, "failure_reason": reason})

    # --- the rules' machinery ------------------------------------------------------

    def _advance(self, order, to_state, now, event, detail=None) -> list[Change]:
        """Move forward along PATH to `to_state`, recording skipped steps as implied."""
        start = PATH.index(order.state)
        target = PATH.index(to_state)
        changes = [
            self._move(order, PATH[i], now, PATH[i], implied=True) for i in range(start + 1, target)
            if PATH[i] != IN_TRANSIT or is_delivery(order)  # a pickup order is never in transit
        ]
        changes.append(self._move(order, to_state, now, event, detail=detail))
        return changes

    def _move(self, order, to_state, now, event, implied=False, detail=None) -> Change:
        detail = dict(detail or {})
        from_state = order.state
        if order.overdue_level:
            detail["overdue_cleared"] = order.overdue_limit
        order.state = to_state
        order.state_changed_at = now
        stamp = {CONFIRMED: "confirmed_at", READY: "ready_at", IN_TRANSIT: "in_transit_at"}.get(to_state)
        # An implied step happened at no known time: stamping it `now` would give the
        # reports a made-up 0-minute step (they leave an unstamped step out).
        if stamp and not implied and getattr(order, stamp) is None:
            setattr(order, stamp, now)
        order.finished_at = now if to_state in TERMINAL else None
        self._set_deadline(order)
        return Change(event, from_state, to_state, implied=implied, detail=detail)

    def _set_deadline(self, order) -> None:
        """The deadline of the step the order now waits for (contract §2); none when terminal."""
        limit, start, deadline = self._deadline_for(order)
        order.deadline_limit = limit
        order.deadline_started_at = start
        order.deadline_at = deadline
        order.next_alarm_at = deadline
        order.overdue_limit = None
        order.overdue_level = 0
        order.overdue_since = None

    def _deadline_for(self, order):
        start = order.state_changed_at
        lim = self.limits
        if order.state == SUBMITTED:
            return "confirmation", start, start + lim.confirmation
        if order.state == CONFIRMED:
            if order.prep_time is not None:
                return "preparation", start, max(order.prep_time, start) + lim.preparation_grace
            return "preparation", start, start + lim.preparation
        if order.state == READY:
            if is_delivery(order):
                return "courier_pickup", start, start + lim.courier_pickup
            return "customer_pickup", start, start + lim.customer_pickup
        if order.state == IN_TRANSIT:
            return "delivery", start, start + lim.delivery
        return None, None, None

    @staticmethod
    def _keep_unknown_restaurant_id(order, merchant_supplied_id) -> dict[str, Any]:
        """What a refused event still keeps: the restaurant's order id, when Passline has
        none (a cancellation does not carry it, and contract §3.1 says keep it)."""
        if order.merchant_supplied_id is not None or not merchant_supplied_id:
            return {}
        order.merchant_supplied_id = merchant_supplied_id
        return {"merchant_supplied_id": [None, merchant_supplied_id]}

    @staticmethod
    def _record_restaurant_data(order, merchant_supplied_id, prep_time, sent_at=None) -> dict[str, Any]:
        """Keep what the restaurant told us; return what was new.

        A prep_time is kept with when it was sent (`prep_time_sent_at`), like a store's
        status: one sent earlier than the kept one is older news and is only noted as
        `stale`. One sent at the same second, or of unknown time, is applied."""
        detail: dict[str, Any] = {}
        if merchant_supplied_id and merchant_supplied_id != order.merchant_supplied_id:
            detail["merchant_supplied_id"] = [order.merchant_supplied_id, merchant_supplied_id]
            order.merchant_supplied_id = merchant_supplied_id
        if prep_time is None:
            return detail
        kept_sent_at = order.prep_time_sent_at
        if sent_at is not None and kept_sent_at is not None and sent_at < kept_sent_at:
            detail["stale"] = {"prep_time": _iso(prep_time), "sent_at": _iso(sent_at),
                               "kept_sent_at": _iso(kept_sent_at)}
            return detail
        if prep_time != order.prep_time:
            detail["prep_time"] = [_iso(order.prep_time), _iso(prep_time)]
            order.prep_time = prep_time
            order.prep_time_sent_at = sent_at
        elif sent_at is not None and (kept_sent_at is None or sent_at > kept_sent_at):
            order.prep_time_sent_at = sent_at  # the same promise, repeated later
        return detail

    @staticmethod
    def _bump(order) -> None:
        order.version = (order.version or 0) + 1


# --- questions the pages ask (templates read them as `rules.…`) ---------------------

def allowed_courier_statuses(order) -> list[str]:
    """The courier statuses the rules would take now, nearest first."""
    return [status for status in COURIER_STATUSES
            if status != order.courier_status and Lifecycle._courier_status_refusal(order, status) is None]


def courier_steps(order) -> list[str]:
    """The courier statuses still ahead of a delivery order, in the flow's order (§1): what a
    courier's phone offers one tap at a time. Empty once the order is over."""
    if not is_delivery(order) or order.courier_id is None or order.state in TERMINAL:
        return []
    current = COURIER_STATUSES.index(order.courier_status) if order.courier_status else -1
    return list(COURIER_STATUSES[current + 1:])


def courier_status_refusal(order, status: str) -> Optional[str]:
    """Why the rules would refuse `status` now, in words, or None."""
    return Lifecycle._courier_status_refusal(order, status)


def can_change_courier(order) -> bool:
    return Lifecycle._courier_refusal(order) is None


def can_cancel(order) -> bool:
    return order.state not in TERMINAL


def can_pick_up(order) -> bool:
    return not is_delivery(order) and order.state in (CONFIRMED, READY)


def is_terminal(order) -> bool:
    return order.state in TERMINAL


def awaits_courier(order) -> bool:
    """A delivery order that a courier is still to collect: one without a courier says so."""
    return is_delivery(order) and order.state in (SUBMITTED, CONFIRMED, READY)

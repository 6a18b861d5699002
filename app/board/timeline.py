"""An order's audit trail as a dispatcher reads it in the detail: the store's local time,
who did it by name, what happened in words, couriers by name. The rows themselves keep
their codes (the API's `timeline` shows them raw); only this view translates them."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlalchemy import select

from ..extensions import db
from ..domain.labels import actor, label
from ..models import Courier, OrderEvent
from .cards import money

CLOCK, DAY = "%H:%M:%S", "%b %d "


@dataclass(frozen=True)
class Line:
    at: datetime  # aware UTC: the exact time, kept in the page's <time datetime>
    when: str  # store-local clock time, with the day when it changes
    who: str
    what: str
    states: str  # "Submitted → Confirmed", or the one state when it did not move
    notes: list[str] = field(default_factory=list)
    implied: bool = False
    refused: bool = False


def lines(events: list[OrderEvent], tz: tzinfo) -> list[Line]:
    """The audit rows, oldest first, in words."""
    names = _courier_names(events)
    out, last_day = [], None
    for e in events:
        local = e.at.astimezone(tz)
        day = local.date()
        when = local.strftime((DAY if day != last_day else "") + CLOCK)
        last_day = day
        facts = _Facts(e, names, tz)
        out.append(Line(at=e.at, when=when, who=actor(e.actor), what=facts.what(), states=_states(e),
                        notes=facts.notes(), implied=e.implied, refused=e.refused))
    return out


def _states(e: OrderEvent) -> str:
    if e.from_state and e.from_state != e.to_state:
        return f"{label('state', e.from_state)} → {label('state', e.to_state)}"
    return label("state", e.to_state)


def _newest(value):
    """A change is recorded as [old, new]; a payload holds the value alone."""
    return value[1] if isinstance(value, list) and len(value) == 2 else value


def _courier_ids(e: OrderEvent) -> list[int]:
    pair = (e.detail or {}).get("courier_id")
    ids = pair if isinstance(pair, list) else [pair]
    return [i for i in (*ids, (e.payload or {}).get("courier_id")) if isinstance(i, int)]


def _courier_names(events: list[OrderEvent]) -> dict[int, str]:
    ids = {i for e in events for i in _courier_ids(e)}
    if not ids:
        return {}
    return dict(db.session.execute(select(Courier.id, Courier.name).where(Courier.id.in_(ids))).all())


class _Facts:
    """One audit row's detail (what changed) and payload (what was asked), in words."""

    # Detail keys the headline already says, or that say nothing to a dispatcher.
    SAID = {"courier_id", "courier_status", "limit", "late_by_seconds", "overdue_level", "failure_reason",
            "cancel_reason", "cancelled_by", "reason", "refund", "amount", "kind", "message_id"}

    def __init__(self, event: OrderEvent, names: dict[int, str], tz: tzinfo):
        self.e, self.names, self.tz = event, names, tz
        self.detail, self.payload = event.detail or {}, event.payload or {}

    def get(self, key, payload_key=None):
        """What the change recorded, else what was asked (a refused row changed nothing)."""
        if key in self.detail:
            return _newest(self.detail[key])
        return self.payload.get(payload_key or key)

    def courier(self, courier_id) -> str:
        return self.names.get(courier_id, f"courier #{courier_id}")

    def what(self) -> str:
        subject = self.subject()
        headline = label("event", self.e.event)
        return f"{headline}: {subject}" if subject else headline

    def subject(self) -> str:
        event = self.e.event
        if event in ("courier_assigned", "courier_reassigned"):
            pair = self.detail.get("courier_id")
            if isinstance(pair, list) and pair[0] is not None:
                return f"{self.courier(pair[0])} → {self.courier(pair[1])}"
            new = self.get("courier_id")
            return self.courier(new) if new is not None else ""
        if event == "courier_status":
            return label("courier_status", self.get("courier_status", "dasher_status"))
        if event in ("overdue", "overdue_escalated"):
            return f"{label('limit', self.get('limit')).lower()}, {_late(self.get('late_by_seconds'))}"
        if event == "cancelled":
            return label("cancel_reason", self.get("cancel_reason"))
        if event == "rejected":
            return self.get("failure_reason") or ""
        if event == "override":
            return self.get("reason") or ""
        if event == "refund_processed":
            return money(self.get("amount")) if self.get("amount") is not None else ""
        if event in ("call_failed", "call_retried"):
            return label("call", self.get("kind"))
        return ""

    def notes(self) -> list[str]:
        return [note for key, value in self.detail.items() if key not in self.SAID
                for note in [self.note(key, value)] if note]

    def note(self, key: str, value) -> str:
        if key == "implied_statuses":
            return "implied: " + ", ".join(label("courier_status", s) for s in value)
        if key == "overdue_cleared":
            return f"clears the {label('limit', value).lower()} overdue flag"
        if key == "prep_time":
            return f"ready promised {self.clock(_newest(value))}"
        if key == "deadline":
            return f"was due {self.clock(value)}"
        if key == "allowed_minutes":
            return f"limit {value:g} min"
        if key == "merchant_supplied_id":
            return f"{label('reference', 'merchant_supplied_id').lower()} {_newest(value)}"
        if key == "late":
            return "arrived after the order had moved on"
        if key == "stale":
            return f"older promise (ready {self.clock(value.get('prep_time'))}) ignored: sent before the one kept"
        if key == "cancel_details":
            return value or ""
        if key == "attempts":
            return f"after {value} attempt{'' if value == 1 else 's'}"
        if key == "status_code":
            return f"HTTP {value}" if value else ""
        if key == "idempotency_key":  # [old, new]: only a call OneTablet refused gets a new one
            return "sent under a new Idempotency-Key (the old one was refused)"
        if key in ("refused", "error", "last_error"):
            return value or ""
        return f"{key.replace('_', ' ')}: {_newest(value)}"

    def clock(self, iso) -> str:
        if not iso:
            return "—"
        return datetime.fromisoformat(iso).astimezone(self.tz).strftime("%H:%M")


def _late(seconds) -> str:
    minutes = int(seconds or 0) // 60
    return f"{minutes} min late" if minutes else "under a minute late"

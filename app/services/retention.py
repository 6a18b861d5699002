"""Retention: what Passline deletes once it is old enough, in short batches.

- Webhook dedupe keys, after DEDUPE_KEEP_DAYS (30). Every webhook leaves two keys (its
  webhook-id and its content), millions of rows a year. Past the window a repeat is no
  longer a retry of a delivery but a replay, and the lifecycle already answers a replayed
  order event with "nothing new" (a repeated event adds nothing), while store events older
  than the stored state are ignored by their timestamp.
- Webhook receipts (the /webhooks log: what OneTablet told us, raw), after
  RECEIPTS_KEEP_DAYS, only when it is set: 0, the default, keeps them all. They are the
  record an operator reads in a dispute, so deleting them is the operator's choice. The
  orders' own audit trail is never pruned. Refused unauthenticated requests need no job
  here: they keep no body and live in a ring of one per second of the hour, bounded at
  every insert (app/infra/refusals.py), where an hourly job would leave an attacker an hour.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from flask import current_app
from sqlalchemy import delete, select

from ..infra import clock
from ..extensions import db
from ..models import DedupeKey, WebhookReceipt

# Rows deleted per transaction: short transactions, so webhooks never queue behind one.
BATCH = 5_000
# Batches per table and run at most (a bounded loop): what is left waits for the next run.
MAX_BATCHES = 100


@dataclass(frozen=True)
class Pruned:
    dedupe_keys: int
    receipts: int

    def __str__(self) -> str:
        return f"{self.dedupe_keys} dedupe key(s), {self.receipts} webhook receipt(s) pruned"


def run(now: Optional[datetime] = None) -> Pruned:
    """The scheduler's retention job."""
    now = now or clock.now()
    return Pruned(prune_dedupe_keys(now), prune_receipts(now))


def prune_dedupe_keys(now: Optional[datetime] = None) -> int:
    """Delete the keys older than DEDUPE_KEEP_DAYS; return how many."""
    return _prune(DedupeKey.key, DedupeKey.created_at, current_app.config["DEDUPE_KEEP_DAYS"], now)


def prune_receipts(now: Optional[datetime] = None) -> int:
    """Delete the receipts older than RECEIPTS_KEEP_DAYS (none when it is 0)."""
    days = current_app.config["RECEIPTS_KEEP_DAYS"]
    return _prune(WebhookReceipt.id, WebhookReceipt.received_at, days, now) if days else 0


def _prune(key, stamp, keep_days: float, now: Optional[datetime]) -> int:
    """Delete, by `key`, the rows whose `stamp` (an indexed column) is older than
    `keep_days` before `now`; return how many."""
    cutoff = (now or clock.now()) - timedelta(days=keep_days)
    removed = 0
    for _ in range(MAX_BATCHES):
        oldest = select(key).where(stamp < cutoff).limit(BATCH)
        count = db.session.execute(delete(key.table).where(key.in_(oldest))).rowcount
        db.session.commit()
        removed += count
        if count < BATCH:
            break
    return removed

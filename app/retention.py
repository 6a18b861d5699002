"""Retention: dedupe keys are pruned once no delivery can still repeat them.

Every webhook leaves two keys in `dedupe_keys` (its webhook-id and its content), and the
table would otherwise grow by millions of rows a year. Past DEDUPE_KEEP_DAYS a repeat is
no longer a retry of a delivery but a replay, and the lifecycle already answers a replayed
order event with "nothing new" (a repeated event adds nothing), while store events older
than the stored state are ignored by their timestamp. Webhook receipts are the webhook log
(what OneTablet told us) and are kept.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from flask import current_app
from sqlalchemy import delete, select

from . import clock
from .extensions import db
from .models import DedupeKey

# Keys deleted per transaction: short transactions, so webhooks never queue behind one.
BATCH = 5_000
# Batches per run at most (a bounded loop): what is left waits for the next run.
MAX_BATCHES = 100


def prune_dedupe_keys(now: Optional[datetime] = None) -> int:
    """Delete the keys older than DEDUPE_KEEP_DAYS; return how many."""
    now = now or clock.now()
    cutoff = now - timedelta(days=current_app.config["DEDUPE_KEEP_DAYS"])
    removed = 0
    for _ in range(MAX_BATCHES):
        oldest = select(DedupeKey.key).where(DedupeKey.created_at < cutoff).limit(BATCH)
        count = db.session.execute(delete(DedupeKey).where(DedupeKey.key.in_(oldest))).rowcount
        db.session.commit()
        removed += count
        if count < BATCH:
            break
    return removed

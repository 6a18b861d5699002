"""Heartbeats: each scheduled job records when it last ran (one upsert per run), so a
stopped scheduler — the process killed, or PASSLINE_SCHEDULER=off everywhere — is seen:
/healthz says "degraded" (still 200: the database answers, and a balancer must not take
every process out because the one scheduler died) and the board warns dispatchers that
overdue alarms are not raised.

Timestamps come from app.clock (tests move it). The overdue tick is late once its last run
is older than 3 × OVERDUE_CHECK_SECONDS + HEARTBEAT_MARGIN_SECONDS. Two cases are
"unknown" rather than late, so a fresh deploy or a test is not failed for what has not
had time to happen: no run recorded at all yet, and a late one during the first such
span after this process started (the scheduler may be starting beside it)."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from flask import current_app
from sqlalchemy import select, update

from ..infra import clock
from ..extensions import db
from ..models import Heartbeat

OVERDUE = "overdue"
_STARTED = "passline_started_at"


def mark_started(app) -> None:
    """Remember when this process's app was made (the grace after a deploy)."""
    app.extensions.setdefault(_STARTED, clock.now())


def beat(name: str, now: Optional[datetime] = None) -> None:
    """Record that job `name` ran now, and commit: one statement, one short transaction."""
    values = {"name": name, "at": now or clock.now(), "by": f"{socket.gethostname()}:{os.getpid()}"[:255]}
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(Heartbeat).values(**values)
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=[Heartbeat.name], set_={"at": stmt.excluded.at, "by": stmt.excluded.by}))
    elif not db.session.execute(update(Heartbeat).where(Heartbeat.name == name)
                                .values(at=values["at"], by=values["by"])).rowcount:
        db.session.add(Heartbeat(**values))
    db.session.commit()


@dataclass(frozen=True)
class Status:
    state: str  # ok | unknown | late
    at: Optional[datetime]  # the last run, if any
    age: Optional[float]  # seconds since it
    limit: float  # seconds after which it is late
    by: Optional[str]
    reason: str

    @property
    def late(self) -> bool:
        return self.state == "late"

    @property
    def age_words(self) -> str:
        """"4 min", "3 h": how long the checks have not run, for people."""
        minutes = int((self.age or 0) // 60)
        return f"{max(1, minutes)} min" if minutes < 120 else f"{minutes // 60} h"

    def as_json(self) -> dict:
        return {"state": self.state, "last_run": self.at.isoformat() if self.at else None,
                "age_seconds": None if self.age is None else round(self.age, 1),
                "limit_seconds": self.limit, "by": self.by, "reason": self.reason}


def limit_seconds(config) -> float:
    return 3 * float(config["OVERDUE_CHECK_SECONDS"]) + float(config["HEARTBEAT_MARGIN_SECONDS"])


def overdue_status(now: Optional[datetime] = None) -> Status:
    """How the overdue tick is doing, from its heartbeat (one primary-key read)."""
    app = current_app
    now = now or clock.now()
    limit = limit_seconds(app.config)
    row = db.session.execute(select(Heartbeat.at, Heartbeat.by).where(Heartbeat.name == OVERDUE)).first()
    if row is None:
        return Status("unknown", None, None, limit, None, "no overdue tick recorded yet")
    age = (now - row.at).total_seconds()
    if age <= limit:
        return Status("ok", row.at, age, limit, row.by, "")
    started = app.extensions.setdefault(_STARTED, now)
    if (now - started).total_seconds() <= limit:
        return Status("unknown", row.at, age, limit, row.by,
                      f"last overdue tick {age:.0f} s ago, before this process started; waiting for the scheduler")
    return Status("late", row.at, age, limit, row.by,
                  f"no overdue tick for {age:.0f} s (limit {limit:.0f} s): is a scheduler running? "
                  "Overdue alarms are not being raised")

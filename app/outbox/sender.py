"""The outbox worker: sends every queued call, retries what may succeed later, gives up
on what cannot.

A few sender threads per serving process. Each sleeps until a commit queued a message
(an `after_commit` hook wakes it) or the poll interval passes (retries fall due), then
claims one due message at a time, sends it outside any transaction, and records the
outcome. A claim is a lease (`locked_by`, `locked_until`) taken in its own short
transaction: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock of BEGIN IMMEDIATE
on SQLite, so no two senders — threads or processes — hold the same message; a sender
that dies mid-send loses its lease when `locked_until` passes and the message goes out
again (OneTablet dedupes it by its Idempotency-Key). Messages of one order to one target
leave in the order they were queued: a cancel never overtakes its order's create_order.
"""
from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import event, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from ..infra import clock
from ..services import orders
from .. import outbox
from ..infra.outage import Failures
from ..extensions import db
from ..domain.lifecycle import CallGaveUp
from ..models import Order, OutboxMessage
from . import retry_policy
from .client import Client, configured_targets

log = logging.getLogger(__name__)

NEEDS_CLIENT_ORDER_ID = ("cancel", "delivery_status")
_running: list["Worker"] = []  # this process's workers, woken after a commit that queued a message
_process_worker: Optional["Worker"] = None


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session):
    if outbox.wants_wake(session):
        for worker in list(_running):
            worker.wake()


@dataclass(frozen=True)
class Claimed:
    """What a sender needs from a claimed message, read inside the claim's transaction."""

    id: int
    target: str
    kind: str
    order_id: Optional[str]
    method: str
    path: str
    payload: dict
    idempotency_key: str


@dataclass
class _Sender:
    name: str
    wakeup: threading.Event = field(default_factory=threading.Event)
    busy: bool = False


class Worker:
    def __init__(self, app, *, senders: Optional[int] = None, name: Optional[str] = None,
                 rng: Optional[random.Random] = None):
        self.app = app
        self.config = app.config
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.senders = senders if senders is not None else self.config["OUTBOX_SENDERS"]
        self.rng = rng or random.Random()
        self._stop = threading.Event()
        self._senders: list[_Sender] = []
        self._threads: list[threading.Thread] = []
        self.passes = 0  # drains finished by the sender threads (tests wait on it)
        # One outage (PostgreSQL down) is logged once for all senders, not at every poll;
        # it ends when every sender that failed has worked again.
        self.failures = Failures(log, f"outbox worker {self.name}")

    # --- threads ----------------------------------------------------------------------

    def start(self) -> "Worker":
        for number in range(self.senders):
            sender = _Sender(f"{self.name}/{number}")
            sender.wakeup.set()  # look at once: messages left by an earlier run
            self._senders.append(sender)
            self._threads.append(threading.Thread(target=self._run, args=(sender,),
                                                  name=f"outbox-sender-{number}", daemon=True))
        _running.append(self)
        for thread in self._threads:
            thread.start()
        return self

    def wake(self) -> None:
        """A message was queued: one idle sender is enough to take it (waking all would
        have them queue on SQLite's write lock for nothing); busy ones look again after
        their current pass, so a message committed during it is not left to the poll."""
        idle_woken = False
        for sender in self._senders:
            if sender.busy:
                sender.wakeup.set()
            elif not idle_woken:
                sender.wakeup.set()
                idle_woken = True

    def stop(self, timeout: float = 15) -> None:
        """Stop the senders, waiting at most `timeout` for all of them together."""
        self._stop.set()
        for sender in self._senders:
            sender.wakeup.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self in _running:
            _running.remove(self)

    def _run(self, sender: _Sender) -> None:
        client = Client(self.config)
        try:
            while not self._stop.is_set():
                sender.wakeup.wait(self.config["OUTBOX_POLL_SECONDS"])
                sender.wakeup.clear()  # before draining: a commit from now on wakes us again
                sender.busy = True
                try:
                    self.drain(client, sender.name)
                except Exception as error:  # a database hiccup must not end the thread
                    self.failures.failed(error, f"sender {sender.name} looks again in "
                                                f"{self.config['OUTBOX_POLL_SECONDS']}s", source=sender.name)
                else:
                    self.failures.succeeded(sender.name)
                finally:
                    sender.busy = False
                self.passes += 1
        finally:
            client.close()

    # --- one pass ------------------------------------------------------------------------

    def drain(self, client: Optional[Client] = None, sender: Optional[str] = None) -> int:
        """Send every message that is due, one by one; returns how many were attempted."""
        own_client = client is None
        client = client or Client(self.config)
        sender = sender or f"{self.name}/drain"
        attempted = 0
        try:
            with self.app.app_context():
                try:
                    while not self._stop.is_set():
                        claimed = self.claim(sender)
                        if claimed is None:
                            break
                        self.send(client, claimed, sender)
                        attempted += 1
                finally:
                    db.session.remove()
        finally:
            if own_client:
                client.close()
        return attempted

    def claim(self, sender: str) -> Optional[Claimed]:
        targets = configured_targets(self.config)
        if not targets:
            return None
        now = clock.now()
        earlier = aliased(OutboxMessage)
        waits_for_earlier = exists().where(
            earlier.order_id == OutboxMessage.order_id, earlier.target == OutboxMessage.target,
            earlier.status == "pending", earlier.id < OutboxMessage.id)
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
                   or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
                   OutboxMessage.target.in_(targets), ~waits_for_earlier)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        )
        message = db.session.execute(query).scalar_one_or_none()
        if message is None:
            db.session.rollback()
            return None
        if message.kind in NEEDS_CLIENT_ORDER_ID and not self._fill_client_order_id(message):
            db.session.commit()
            return self.claim(sender)
        message.locked_by = sender
        message.locked_until = now + timedelta(seconds=self.config["OUTBOX_LOCK_SECONDS"])
        claimed = Claimed(id=message.id, target=message.target, kind=message.kind, order_id=message.order_id,
                          method=message.method or "POST", path=message.path, payload=dict(message.payload),
                          idempotency_key=message.idempotency_key)
        db.session.commit()
        return claimed

    def _fill_client_order_id(self, message: OutboxMessage) -> bool:
        """OneTablet's id is known only once create_order succeeded: put it in at send
        time. False (and the message failed) when OneTablet never took the order."""
        if message.payload.get("client_order_id") or message.order_id is None:
            return True
        client_order_id = db.session.execute(
            select(Order.client_order_id).where(Order.id == message.order_id)).scalar_one_or_none()
        if client_order_id:
            message.payload = {**message.payload, "client_order_id": client_order_id}
            return True
        refused = db.session.execute(
            select(OutboxMessage.id).where(OutboxMessage.order_id == message.order_id,
                                           OutboxMessage.kind == "create_order",
                                           OutboxMessage.status == "failed")).first()
        if refused is None:
            return True  # sent, but OneTablet gave no id: send what we have
        message.last_error = "not sent: OneTablet never accepted this order (its create_order failed)"
        self._give_up(message, clock.now(), message.last_error)
        return False

    # --- send and record ---------------------------------------------------------------

    def send(self, client: Client, claimed: Claimed, sender: str) -> retry_policy.Verdict:
        response = error = None
        try:
            response = client.deliver(target=claimed.target, method=claimed.method, path=claimed.path,
                                      payload=claimed.payload, idempotency_key=claimed.idempotency_key)
        except Exception as exc:  # requests' errors, and anything else: the next try may do better
            error = exc
        try:
            verdict = retry_policy.judge(response, error, clock.now())
            self.record(claimed, verdict, response, sender)
        except Exception as exc:
            # A bug, or an answer nobody foresaw, must still count as an attempt: a message
            # left untouched goes out again each time its lease runs out, forever, never
            # reaching its give-up, and the order's later calls wait behind it.
            log.exception("outbox message %s: could not record the answer; counted as a failed attempt",
                          claimed.id)
            verdict = self._record_mishap(claimed, response, exc, sender)
        return verdict

    def record(self, claimed: Claimed, verdict: retry_policy.Verdict, response, sender: str) -> None:
        message = self._still_ours(claimed, sender, verdict)
        if message is None:
            return
        now = clock.now()
        self._count_attempt(message, verdict)
        if response is not None:
            message.response = _response_record(response)
        if verdict.outcome == retry_policy.SENT:
            message.status, message.sent_at, message.last_error = "sent", now, None
            if claimed.kind == "create_order" and claimed.order_id:
                self._keep_client_order_id(claimed.order_id, response)
        elif verdict.outcome == retry_policy.RETRY:
            message.last_error = verdict.error
            when = self._next_attempt(message, verdict, now)
            if when is None:
                self._give_up(message, now, self._gave_up_reason(message, verdict, now))
            else:
                message.next_attempt_at = when
        else:
            message.last_error = verdict.error
            self._give_up(message, now, _refused_reason(message, verdict, response))
        db.session.commit()

    def _record_mishap(self, claimed: Claimed, response, exc: Exception, sender: str) -> retry_policy.Verdict:
        """Record an answer that could not be handled as a retryable failure: the usual
        backoff, and the usual give-up (audit row, rejection) once attempts or hours are
        spent. Should that fail too, the bare minimum: the attempt counted, and the
        message backs off or is failed (the card's badge counts failed messages)."""
        db.session.rollback()
        verdict = retry_policy.Verdict(retry_policy.RETRY, status_code=getattr(response, "status_code", None),
                                 error=f"Passline could not handle the answer: {exc.__class__.__name__}: {exc}"[:1000])
        try:
            self.record(claimed, verdict, None, sender)
            return verdict
        except Exception:
            db.session.rollback()
            log.exception("outbox message %s: recording it as a failed attempt failed too", claimed.id)
        message = self._still_ours(claimed, sender, verdict)
        if message is None:
            return verdict
        now = clock.now()
        self._count_attempt(message, verdict)
        message.last_error = verdict.error
        when = self._next_attempt(message, verdict, now)
        if when is None:
            message.status, message.failed_at = "failed", now
        else:
            message.next_attempt_at = when
        db.session.commit()
        return verdict

    def _still_ours(self, claimed: Claimed, sender: str, verdict: retry_policy.Verdict) -> Optional[OutboxMessage]:
        """The claimed message, locked; None when our lease ran out and another sender
        took the message over: its outcome counts, not ours."""
        message = db.session.execute(
            select(OutboxMessage).where(OutboxMessage.id == claimed.id).with_for_update()).scalar_one()
        if message.status != "pending" or message.locked_by != sender:
            log.warning("outbox message %s: lease lost by %s, outcome %s not recorded",
                        claimed.id, sender, verdict.outcome)
            db.session.rollback()
            return None
        return message

    @staticmethod
    def _count_attempt(message: OutboxMessage, verdict: retry_policy.Verdict) -> None:
        message.attempts += 1
        message.last_status_code = verdict.status_code
        message.locked_by = message.locked_until = None

    def _next_attempt(self, message: OutboxMessage, verdict: retry_policy.Verdict, now: datetime) -> Optional[datetime]:
        return retry_policy.next_attempt(
            attempts=message.attempts, now=now, started=_round_started(message), verdict=verdict,
            max_attempts=self.config["OUTBOX_MAX_ATTEMPTS"], max_hours=self.config["OUTBOX_MAX_HOURS"],
            base=self.config["OUTBOX_BASE_DELAY_SECONDS"], cap=self.config["OUTBOX_MAX_DELAY_SECONDS"],
            rng=self.rng)

    def _gave_up_reason(self, message: OutboxMessage, verdict: retry_policy.Verdict, now: datetime) -> str:
        who = "OneTablet" if message.target == "onetablet" else "the customer webhook"
        last = f"HTTP {verdict.status_code}" if verdict.status_code else (verdict.error or "no answer")
        max_hours = self.config["OUTBOX_MAX_HOURS"]
        deadline = retry_policy.give_up_at(_round_started(message), max_hours)
        if (message.attempts < self.config["OUTBOX_MAX_ATTEMPTS"]
                and retry_policy.waits_past_give_up(verdict, now, deadline)):
            return (f"{who} could not take the {message.kind} call: it asked to wait {_span(verdict.retry_after)} "
                    f"({last}, Retry-After), past the {max_hours:g} h Passline keeps trying")
        return (f"{who} could not take the {message.kind} call: gave up after {message.attempts} attempts "
                f"(last: {last})")

    @staticmethod
    def _keep_client_order_id(order_id: str, response) -> None:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            log.warning("create_order for %s: OneTablet's answer is not a JSON object", order_id)
            return
        client_order_id = answer.get("client_order_id") or answer.get("id")  # older answers: id
        if client_order_id is None:
            log.warning("create_order for %s: no client_order_id in OneTablet's answer", order_id)
            return
        db.session.execute(update(Order).where(Order.id == order_id)
                           .values(client_order_id=str(client_order_id)))

    @staticmethod
    def _give_up(message: OutboxMessage, now: datetime, reason: str) -> None:
        """Failed for good: staff see it on the card (and may retry it); an order OneTablet
        never took is rejected."""
        message.status, message.failed_at = "failed", now
        message.locked_by = message.locked_until = None
        log.warning("outbox message %s (%s, order %s) failed: %s", message.id, message.kind,
                    message.order_id, reason)
        if message.order_id is None:
            return
        order = orders.get_for_update(message.order_id)
        actor = "onetablet" if message.target == "onetablet" else "customer_app"
        orders.apply(order, CallGaveUp(kind=message.kind, reason=reason, detail={
            "message_id": message.id, "kind": message.kind, "attempts": message.attempts,
            "status_code": message.last_status_code, "error": reason}), actor=actor)


def _round_started(message: OutboxMessage) -> datetime:
    """The give-up clock runs from the message's creation, or from its last failure once
    staff retried it by hand (a fresh round)."""
    return max(message.created_at, message.failed_at) if message.failed_at else message.created_at


def _response_record(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = response.text[:2000]
    return {"status": response.status_code, "body": body}


def _answer_detail(response) -> str:
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300].strip()
    if isinstance(body, dict):
        for key in ("detail", "error", "message"):
            if body.get(key):
                return str(body[key])[:300]
    return str(body)[:300]


def _refused_reason(message: OutboxMessage, verdict: retry_policy.Verdict, response) -> str:
    detail = _answer_detail(response)
    who = "OneTablet" if message.target == "onetablet" else "the customer webhook"
    return f"{who} refused the {message.kind} call (HTTP {verdict.status_code})" + (f": {detail}" if detail else "")


def _span(seconds: float) -> str:
    """A wait in words; OneTablet may ask for any number of seconds, even beyond a float."""
    for unit, size, below in (("s", 1, 120), ("min", 60, 7200), ("h", 3600, 172800), ("days", 86400, 3650 * 86400)):
        if seconds < below:
            return f"{seconds / size:.0f} {unit}"
    return "more than ten years"


def start(app) -> Worker:
    """The serving process's worker (app/background.py); one per process."""
    global _process_worker
    if _process_worker is None:
        timeouts = app.config["OUTBOX_CONNECT_TIMEOUT_SECONDS"] + app.config["OUTBOX_READ_TIMEOUT_SECONDS"]
        if app.config["OUTBOX_LOCK_SECONDS"] <= timeouts:
            log.warning("OUTBOX_LOCK_SECONDS (%s) should exceed connect + read timeout (%s): a slow "
                        "send could be taken over and sent twice", app.config["OUTBOX_LOCK_SECONDS"], timeouts)
        if "onetablet" not in configured_targets(app.config):
            log.warning("ONETABLET_API_URL is not set: calls to OneTablet wait in the outbox until it is")
        _process_worker = Worker(app).start()
    return _process_worker


def stop(timeout: float = 15) -> None:
    """Stop the serving process's worker (the demo's Ctrl-C); a send in flight finishes."""
    global _process_worker
    if _process_worker is not None:
        _process_worker.stop(timeout)
        _process_worker = None

"""Database plumbing: UTC timestamps that read back the same on SQLite and PostgreSQL,
and SQLite settings that make it safe under concurrent requests."""
import threading
from contextlib import contextmanager
from datetime import datetime, timezone

from flask import has_request_context, request
from sqlalchemy import DateTime, event
from sqlalchemy.types import TypeDecorator

from . import cooperative


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: one meaning for every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use app.clock.now() or an aware value")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text from a hand-written query
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=timezone.utc)


_thread = threading.local()


@contextmanager
def reading_only():
    """Transactions begun inside only read (the live publisher): on SQLite they stay
    deferred, as a GET request's do, and never queue for the write lock."""
    before = getattr(_thread, "reading_only", False)
    _thread.reading_only = True
    try:
        yield
    finally:
        _thread.reading_only = before


def _reads_only() -> bool:
    if getattr(_thread, "reading_only", False):
        return True
    return has_request_context() and request.method in ("GET", "HEAD", "OPTIONS")


def configure_engine(engine) -> None:
    """On SQLite: WAL, a busy timeout, and write transactions that BEGIN IMMEDIATE.

    A deferred transaction that reads and then writes fails with "database is locked"
    whatever the busy timeout, because SQLite cannot upgrade its read lock while another
    writer waits. BEGIN IMMEDIATE takes the write lock up front, so writers queue on the
    busy timeout instead. GET requests (and `reading_only` blocks) only read, and stay
    deferred so they never wait.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    writers = _CooperativeWriteLock() if cooperative.is_on() else None

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if _reads_only():
            conn.exec_driver_sql("BEGIN")
        elif writers is None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            writers.begin(conn)

    if writers is not None:
        event.listen(engine, "commit", writers.end)
        event.listen(engine, "rollback", writers.end)


class _CooperativeWriteLock:
    """Under gevent, this process's SQLite writers take turns on a greenlet lock first.

    SQLite's busy handler sleeps in C: a greenlet waiting there for the write lock stops
    every greenlet of the process, including the one that holds the lock and would
    release it at its next cooperative step (a Redis call, a log line to a socket), so
    both would sit out the whole busy timeout. Waiting on this lock yields instead.
    Writers of other processes still queue on the busy timeout."""

    HELD = "passline_write_lock"  # connection.info key: this connection holds the lock
    WAIT_SECONDS = 30.0  # as the busy timeout; past it, BEGIN IMMEDIATE waits on SQLite alone

    def __init__(self):
        self._lock = threading.Lock()  # gevent's once patched (cooperative.is_on())

    def begin(self, conn) -> None:
        held = self._lock.acquire(timeout=self.WAIT_SECONDS)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if held:
                self._lock.release()
            raise
        if held:
            conn.info[self.HELD] = True

    def end(self, conn) -> None:
        if conn.info.pop(self.HELD, False):
            self._lock.release()

"""Set-based writes of many rows: what the overdue tick uses to flag a thousand orders.

Each write is one statement with one parameter, a JSON array of the rows, that the
database unpacks (PostgreSQL json_to_recordset, SQLite json_each): a thousand rows
cost one statement, where executemany costs one per row. On PostgreSQL the statements
of a `Writes` block are also pipelined (psycopg pipeline mode): each goes to the server
as soon as it is written, and the server applies it while Python prepares the next
chunk; an error surfaces when the block ends, and the caller rolls back.
"""
from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import datetime, timezone

from sqlalchemy import Table, text


class Writes:
    """`with Writes(session) as writes:` then `writes.insert(...)`, `writes.update(...)`,
    in the session's transaction. The caller commits."""

    def __init__(self, session):
        self.session = session
        self.postgresql = session.get_bind().dialect.name == "postgresql"

    def __enter__(self) -> Writes:
        if self.postgresql:
            driver = self.session.connection().connection.driver_connection
            self._pipeline = driver.pipeline()
            self._cursor = driver.cursor()
        else:
            self._pipeline = nullcontext()
        self._pipeline.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._pipeline.__exit__(*exc)  # PostgreSQL: waits for the answers, raises the first error

    def insert(self, table: Table, rows: list[dict]) -> None:
        """INSERT `rows` (dicts with the same keys) into `table`."""
        if rows:
            cols = ", ".join(rows[0])
            self._execute(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {self._unpack(table, rows[0])}",
                          rows)

    def update(self, table: Table, rows: list[dict], key: str = "id") -> None:
        """UPDATE `table` by `key`: each row's other values replace the stored ones."""
        if rows:
            sets = ", ".join(f"{name} = u.{name}" for name in rows[0] if name != key)
            self._execute(f"UPDATE {table.name} SET {sets} FROM {self._unpack(table, rows[0])} "
                          f"WHERE {table.name}.{key} = u.{key}", rows)

    def _unpack(self, table: Table, names) -> str:
        """The rows parameter as a table `u` with the columns' types."""
        if self.postgresql:
            # Only the given columns, typed: json_populate_recordset(NULL::table, …) would
            # build every column of the table for each row (~40 % more server time).
            dialect = self.session.get_bind().dialect
            columns = ", ".join(f"{name} {table.c[name].type.compile(dialect=dialect)}" for name in names)
            return f"json_to_recordset(CAST(%(rows)s AS json)) AS u({columns})"
        fields = ", ".join(f"value ->> '$.{name}' AS {name}" for name in names)
        return f"(SELECT {fields} FROM json_each(:rows)) AS u"

    def _execute(self, sql: str, rows: list[dict]) -> None:
        params = {"rows": as_json(rows)}
        if self.postgresql:
            self._cursor.execute(sql, params)  # the driver's own call: pipeline mode is psycopg's
        else:
            self.session.execute(text(sql), params)


def as_json(rows: list[dict]) -> str:
    """The rows as JSON. Datetimes go as app.db.UTCDateTime stores them: naive UTC text
    with microseconds, which PostgreSQL parses and SQLite keeps as is (so they compare as
    text with the rows the ORM wrote); JSON columns nest as JSON."""
    seen: dict[datetime, str] = {}  # audit rows share their `at`: format it once

    def stored(value):
        if not isinstance(value, datetime):
            raise TypeError(f"{type(value).__name__} is not JSON serializable")
        if value not in seen:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use app.clock.now() or an aware value")
            seen[value] = value.astimezone(timezone.utc).isoformat(sep=" ", timespec="microseconds")[:26]
        return seen[value]

    return json.dumps(rows, default=stored)

"""Database ids from the outside world: path segments, form fields, query parameters.

Every id column holds a 64-bit signed integer (BIGINT; SQLite's INTEGER), and ids start at
1. A number past that range is no id at all, and must not reach the database, where it
is an error (a 500): SQLite's driver raises OverflowError, PostgreSQL "bigint out of
range". So one rule, here: an id is 1 to 19 ASCII digits within the range
(str.isdigit() also takes "²" and "١", which int() refuses or reads)."""
from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse(raw) -> int | None:
    """The id a form field or query parameter holds, or None when it holds none."""
    if not isinstance(raw, str) or not _DIGITS.fullmatch(raw.strip()):
        return None
    value = int(raw.strip())
    return value if 1 <= value <= MAX_ID else None


class DatabaseId(IntegerConverter):
    """`<id:name>`: a path id within the columns' range; any other number is a 404, as an
    id that does not exist (Werkzeug's `int` takes any length, and Unicode digits)."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map) -> None:
        super().__init__(map, min=1, max=MAX_ID)

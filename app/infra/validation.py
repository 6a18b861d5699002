"""Turning pydantic's errors into answers a person can act on."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StrictInt, ValidationError

# Money in integer cents, up to $1,000,000 a field: an order's total (a few such fields
# added) stays far inside the 32-bit integer columns that hold it.
Cents = Annotated[StrictInt, Field(ge=0, le=100_000_000)]
# The years a time may name: past them a deadline computed from it (prep_time + grace)
# would overflow Python's datetime.
YEARS = (2000, 2999)


def field_path(loc) -> str:
    """('categories', 0, 'items', 1, 'quantity') -> 'categories[0].items[1].quantity'"""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "(body)"


def problems(error: ValidationError) -> list[dict]:
    return [
        {"field": field_path(e["loc"]), "message": e["msg"].removeprefix("Value error, ")}
        for e in error.errors(include_url=False, include_input=False)
    ]


def describe(error: ValidationError) -> str:
    return "; ".join(f"{p['field']}: {p['message']}" for p in problems(error))


# How deep a JSON body may nest. The guide's deepest body (order > categories > items >
# options > their values) is under 10 levels; 64 leaves the platform room for its own
# extras, and keeps everything that walks a body (json.dumps for the dedupe key, pydantic,
# the database driver) far inside Python's 1000-frame recursion limit, even on a thread
# whose stack is already deep. Past it a body is not an order but an attack.
MAX_DEPTH = 64
NUL_REFUSED = "text must not contain NUL characters (\\u0000)"
SURROGATE_REFUSED = "text must be valid Unicode: a lone surrogate (\\ud800-\\udfff) is not a character"
DEPTH_REFUSED = f"nested deeper than {MAX_DEPTH} levels"
_SURROGATE = re.compile("[\ud800-\udfff]")


def unstorable(value) -> str | None:
    """Why parsed JSON cannot be kept, or None: nested past MAX_DEPTH, or a string (keys
    included) holding U+0000, which PostgreSQL text refuses, or a lone surrogate, which has
    no UTF-8. Walked with a stack, not recursion: the depth is the sender's choice."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return NUL_REFUSED
            if _SURROGATE.search(item):
                return SURROGATE_REFUSED
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                return DEPTH_REFUSED
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, (str, dict, list)))
    return None


def storable(text):
    """`text` with U+0000 written as \\x00, for receipts that keep whatever was sent."""
    return text.replace("\x00", "\\x00") if isinstance(text, str) else text


def _iso_text(value):
    """Only ISO 8601 text is a time here: pydantic would read 12 or "12" as Unix seconds."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("must be an ISO 8601 date-time, e.g. 2024-01-15T18:30:00Z")
    return value


def _utc_if_naive(value: datetime) -> datetime:
    value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value  # OneTablet sends UTC
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise ValueError(OUT_OF_YEARS)
    return value


OUT_OF_YEARS = f"must be a date-time between the years {YEARS[0]} and {YEARS[1]}"


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_utc_if_naive)]

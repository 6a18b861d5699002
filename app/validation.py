"""Turning pydantic's errors into answers a person can act on."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, ValidationError


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


def has_nul(value) -> bool:
    """True when a string anywhere in `value` (keys included) holds U+0000, which
    PostgreSQL cannot store in text: such input is refused, not a database error."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


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
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value  # OneTablet sends UTC


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_utc_if_naive)]

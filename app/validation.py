"""Turning pydantic's errors into answers a person can act on."""
from __future__ import annotations

from pydantic import ValidationError


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
        {"field": field_path(e["loc"]), "message": e["msg"]}
        for e in error.errors(include_url=False, include_input=False)
    ]


def describe(error: ValidationError) -> str:
    return "; ".join(f"{p['field']}: {p['message']}" for p in problems(error))

"""Request bodies, read the same way by the webhooks and the customer API: never past
MAX_CONTENT_LENGTH (413), and as strict JSON."""
from __future__ import annotations

import json
import math

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from .validation import unstorable


def raw_body() -> bytes:
    """The body, or RequestEntityTooLarge. A body sent chunked (no Content-Length) is read up
    to the limit by Werkzeug, which then stops without a word: a body past it would be
    judged cut short (a bad signature, broken JSON) instead of too large. The server ends a
    chunked stream (`wsgi.input_terminated`), so one byte more says whether it went on."""
    raw = request.get_data(cache=True)
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and request.content_length is None and len(raw) >= limit:
        if request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()
    return raw


class BadBody(ValueError):
    """A body that is no JSON object Passline can keep: 400 (not JSON) or 422."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


def json_object(raw: bytes) -> dict:
    """The body as a JSON object that is safe to walk and to store, or BadBody. Python's
    parser gives up (RecursionError) near 1000 levels: still a 400, never a 500."""
    try:
        data = loads(raw)
    except (ValueError, RecursionError) as error:
        raise BadBody(400, f"the body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise BadBody(422, "(body): must be a JSON object")
    problem = unstorable(data)
    if problem:
        raise BadBody(422, f"(body): {problem}")
    return data


def loads(raw: bytes):
    """JSON as RFC 8259 has it: Python's json also takes NaN and ±Infinity, which no other
    parser reads back (OneTablet gets the order whole) and PostgreSQL's JSON refuses."""
    return json.loads(raw, parse_constant=_not_json, parse_float=_finite)


def _not_json(name: str):
    raise ValueError(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    """A JSON number too large for a double (1e400) would be read as Infinity."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value

"""How a page tells an htmx request from a plain one: one rule for every blueprint."""
from flask import request


def is_htmx() -> bool:
    """An htmx request that wants a fragment. A history restore (Back to a page htmx no
    longer has cached) wants the whole page."""
    return request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers

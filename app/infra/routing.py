"""Order ids in paths. The platform's ids are any string, slashes included at either end,
and they sit in paths (/onetablet/orders/<id>, /api/orders/<id>, /orders/<id>, and
OneTablet's /orders/<id>/cancel): sent percent-encoded, they reach the app decoded
(%2Fx is /x). Werkzeug's defaults would route /orders//x to order x (it merges the slashes,
with a redirect) and its `path` converter refuses a leading slash."""
from __future__ import annotations

from flask import Flask
from werkzeug.routing import PathConverter

from .ids import DatabaseId


class OrderId(PathConverter):
    """`<order_id:name>`: like `path`, but it may also begin with a slash."""

    regex = ".+?"
    part_isolating = False  # spans slashes (Werkzeug would infer True: this regex has no "/")


def for_order_ids(app: Flask) -> None:
    """Set before the app's first route: rules take these when they are added."""
    app.url_map.merge_slashes = False
    app.url_map.converters["order_id"] = OrderId
    app.url_map.converters["id"] = DatabaseId

"""The attention strip and the courier panel's list: in the board's page, in their fragments
(routes.py), and pushed to every open board by the live publisher (live.init_app, as
"attention" and "couriers"), rendered once per burst of changes, not fetched by each board.

Which changes they show is decided coarsely, on purpose: a render per burst is cheap, a
strip left stale is not."""
from __future__ import annotations

from flask import render_template

from ..infra import clock, live
from . import fleet, queries
from .cards import request_free


def attention_html() -> str:
    """Overdue orders, failed calls, orders held by an inactive courier, a stopped tick."""
    with request_free():
        return render_template("board/_attention.html", attention=queries.attention())


def couriers_html() -> str:
    """Every active courier, what they carry, their load and idle time."""
    with request_free():
        return render_template("board/_couriers.html", fleet=fleet.loads(), now=clock.now())


def on_attention(kind: str, payload: dict) -> bool:
    # Any order may have become overdue, failed a call or be held by an inactive courier;
    # a courier (de)activated changes which orders are held so. A store shows nowhere in it.
    return kind in ("order", "courier")


def on_panel(kind: str, payload: dict) -> bool:
    # An order with a courier after the change: a courier is only ever assigned or
    # reassigned (lifecycle: never unset), so one that had a courier before still has one,
    # and the whole list is rendered, the old courier's line too.
    return kind == "courier" or (kind == "order" and payload.get("courier_id") is not None)


STRIPS = {
    # Periodic as well: "overdue checks have not run" comes with time, not with a change.
    "attention": live.Strip(on_attention, attention_html, periodic=True),
    "couriers": live.Strip(on_panel, couriers_html),
}

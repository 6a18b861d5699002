"""The board's pages: the kanban at `/`, a column in full, the attention strip, and an
order's detail. Each renders the whole page, or only its fragment for htmx."""
from __future__ import annotations

from contextlib import contextmanager

from flask import Blueprint, abort, current_app, make_response, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from ..infra import clock, crowd, live
from ..domain import labels, lifecycle
from ..extensions import db
from ..infra.htmx import filling, is_htmx, replacing
from ..domain.lifecycle import CANCEL_REASONS, STATES, is_delivery
from ..models import MenuItem
from . import cards, fleet, queries, reloads, search, sockets, strips, timeline

bp = Blueprint("board", __name__)
bp.add_app_template_filter(cards.money, "money")
bp.add_app_template_filter(cards.duration, "duration")
bp.add_app_template_global(cards.since, "since")
bp.add_app_template_global(cards.epoch_ms, "epoch_ms")
bp.add_app_template_global(cards.alarming, "alarming")
bp.add_app_template_global(labels.LABELS, "labels")
bp.add_app_template_global(labels.label, "label")
bp.add_app_template_global(labels.actor, "actor")
bp.add_app_template_global(cards.order_url, "order_url")
bp.add_app_template_global(cards.inactive_courier, "inactive_courier")
bp.add_app_template_global(cards.promise, "promise")
bp.add_app_template_global(cards.total_age, "total_age")
bp.add_app_template_global(cards.promised_pickup, "promised_pickup")
bp.add_app_template_global(search.card_text, "search_text")
bp.add_app_template_global(lifecycle, "rules")  # the templates ask the lifecycle, never repeat it
bp.add_app_template_filter(search.fold, "fold")


def respond(body: str, status: int = 200):
    """An answer that differs for htmx requests, and says so to caches."""
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def _board_context(filters: queries.Filters) -> dict:
    now = clock.now()  # before the read: the board's data-now, which its first connect compares
    columns = queries.board(filters)
    shown = [o.id for view in columns for o in view.orders]
    return {"columns": columns, "failed_calls": queries.failed_calls(shown), "filters": filters,
            "now": now, "recent_ms": int(queries.RECENT.total_seconds() * 1000),
            "catch_up_ms": catch_up_ms()}


# Every visible board reloads itself each catch-up period (a lost push mends itself): with
# 2,000 boards on a process and 60 s that is 33 renders a second, half the core that answers
# webhooks. The period stretches so that this process renders at most this many a second;
# on a crowded floor a lost push (rare) takes longer to mend.
CATCH_UP_RENDERS_PER_SECOND = 5


def catch_up_ms() -> int:
    """How often a board reloads itself: BOARD_CATCH_UP_SECONDS (0: never), longer when
    this process holds more boards than that leaves room for."""
    seconds = float(current_app.config["BOARD_CATCH_UP_SECONDS"])
    if seconds <= 0:
        return 0
    return int(1000 * max(seconds, sockets.count(current_app._get_current_object()) / CATCH_UP_RENDERS_PER_SECOND))


def _let_go_of_the_database() -> None:
    """Before waiting for a turn (app/infra/crowd.py): the sign-in check read the account
    with one of the pool's few connections, and a crowd waiting with them would hold them
    all, leaving none for the ones whose turn it is. The account stays loaded."""
    db.session.close()


@contextmanager
def _in_turn():
    """A render every open board may ask for at once: in the crowd's turn, holding no
    database connection while it waits."""
    _let_go_of_the_database()
    with crowd.gate:
        yield


def _in_turn_and_shared(key, build) -> str:
    """A fragment every open board asks for at once after a reconnect (its columns, and the
    strip and courier list its reload carries), the same for every viewer: rendered in the
    crowd's turn, once for all who asked at once (app/board/reloads.py: its leader takes
    the crowd's gate, its followers wait for the leader's render)."""
    _let_go_of_the_database()
    return current_app.extensions[reloads.EXTENSION].render(key, build)


@bp.get("/")
@login_required
def index():
    """The live board: a column per state, exceptions apart; just the columns for htmx."""
    filters = queries.Filters.from_args(request.args)
    live.board_opened()  # its strip is pushed now and then, changes or not
    if is_htmx():
        columns = _in_turn_and_shared(filters, lambda: render_template("board/_board.html", **_board_context(filters)))
        return respond(columns + _strips_out_of_band())
    with _in_turn():
        context = _board_context(filters)
        return respond(render_template(
            "board/index.html", stores=queries.stores(), attention=queries.attention(),
            fleet=fleet.loads(), reasons=CANCEL_REASONS,
            alarm_repeat_ms=int(1000 * current_app.config.get("BOARD_ALARM_REPEAT_SECONDS", 30)), **context))


def _strips_out_of_band() -> str:
    """The attention strip and the courier list (the same for every viewer, whatever its
    filters), for the board's reload answer to carry out of band: pushes missed while the
    board was away are mended by the reload itself, not by two more requests per board
    (a deploy's thousand reconnects were three thousand). Rendered as their fragments are."""
    return (replacing(_in_turn_and_shared("attention", strips.attention_html))
            + filling("courier-list", _in_turn_and_shared("couriers", strips.couriers_html)))


@bp.get("/board/columns/<key>")
@login_required
def column(key):
    """One column with every card (the "show all" of a capped column)."""
    if key not in queries.COLUMN_OF_STATE.values():
        abort(404)
    filters = queries.Filters.from_args(request.args)
    [view] = queries.board(filters, only=key, everything=True)
    return respond(render_template("board/_column.html", view=view, filters=filters, now=clock.now(),
                                   failed_calls=queries.failed_calls(o.id for o in view.orders)))


@bp.get("/board/couriers")
@login_required
def couriers():
    """The courier panel's list (pushed after changes; a board's reload carries it too)."""
    return respond(_in_turn_and_shared("couriers", strips.couriers_html))


@bp.get("/board/attention")
@login_required
def attention():
    """The strip of overdue orders and failed calls (pushed after changes and every minute;
    a board's reload carries it too)."""
    return respond(_in_turn_and_shared("attention", strips.attention_html))


store_zone = cards.store_zone


def detail_context(order, **extra) -> dict:
    """Everything the detail panel shows and offers, for `order`."""
    item_ids = [item.get("merchant_supplied_id") for category in order.payload.get("categories") or []
                for item in category.get("items") or [] if isinstance(item, dict)]
    names = dict(db.session.execute(
        select(MenuItem.merchant_supplied_id, MenuItem.name)
        .where(MenuItem.store_id == order.store_id, MenuItem.merchant_supplied_id.in_(item_ids))).all())
    tz = store_zone(order.store)
    return {
        "order": order,
        "payload": order.payload,
        "names": names,
        "tz": tz,
        "now": clock.now(),
        "events": timeline.lines(order.events, tz),
        "failed_messages": queries.failed_messages(order.id),
        "fleet": fleet.loads(),
        "reasons": CANCEL_REASONS,
        "next_statuses": lifecycle.allowed_courier_statuses(order),
        "states": STATES,
        "delivery": is_delivery(order),
        "is_manager": current_user.can("manager"),
        "error": None,
        "notice": None,
        "refused_form": lambda action: {},  # a refused action's form values (order_actions.py)
        **extra,
    }


def render_detail(order_id: str, status: int = 200, **extra):
    order = queries.detail(order_id)
    if order is None:
        abort(404, description=f"No order {order_id!r}.")
    context = detail_context(order, **extra)
    template = "board/_detail.html" if is_htmx() else "board/detail.html"
    return respond(render_template(template, **context), status)


@bp.get("/orders/<order_id:order_id>")
@login_required
def order_detail(order_id):
    """An order's detail: items, customer, money, store time, courier, audit trail, actions."""
    return render_detail(order_id)

"""/webhooks: the log of every webhook OneTablet sent, with its verdict, for when a
dispatcher asks "did OneTablet tell us?". Filter by order, store, verdict and kind; the raw
body and headers open on demand. Pages go by keyset (`before` = the last id shown), so a
page is one indexed range read however long the log grows."""
from __future__ import annotations

import json

from flask import Blueprint, abort, request
from sqlalchemy import select

from ..auth import role_required
from ..infra import ids
from ..extensions import db
from ..models import WebhookReceipt
from .pages import respond

bp = Blueprint("webhook_log", __name__, url_prefix="/webhooks")

PAGE_SIZE = 50
VERDICTS = ("applied", "duplicate", "refused", "failed")
# The kinds app/webhooks/routes.py records, one per webhook path.
KINDS = ("order_confirmation", "order_ready", "order_cancellation", "store_status", "store_items", "store_menu")
_FILTERS = {"order": WebhookReceipt.order_id, "store": WebhookReceipt.store_ref,
            "verdict": WebhookReceipt.verdict, "kind": WebhookReceipt.kind}


def filters(args) -> tuple[dict[str, str], list[str]]:
    """The filters in the URL that are set, trimmed, and what was wrong with the others: an
    unknown verdict or kind is left out (the log shows every one) and the page says so."""
    chosen = {name: args.get(name, "").strip() for name in _FILTERS}
    ignored = []
    for name, known in (("verdict", VERDICTS), ("kind", KINDS)):
        if chosen[name] and chosen[name] not in known:
            ignored.append(f"No {name} “{chosen[name]}”: that filter is left out, every {name} is shown "
                           f"(one of {', '.join(known)}).")
            chosen[name] = ""
    return {name: value for name, value in chosen.items() if value}, ignored


def page(chosen: dict[str, str], before: int | None) -> tuple[list[WebhookReceipt], int | None]:
    """Newest first; returns the rows and the `before` of the next (older) page, if any."""
    query = select(WebhookReceipt).order_by(WebhookReceipt.id.desc()).limit(PAGE_SIZE + 1)
    for name, value in chosen.items():
        query = query.where(_FILTERS[name] == value)
    if before is not None:
        query = query.where(WebhookReceipt.id < before)
    rows = db.session.execute(query).scalars().all()
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return rows[:PAGE_SIZE], older


def formatted(body: str | None) -> str | None:
    """The body as indented JSON, when it is JSON and the indentation helps a reader."""
    if body is None:  # not kept: the request failed authentication
        return None
    try:
        pretty = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return None
    return pretty if pretty != body else None


@bp.get("")
@role_required("dispatcher")
def index():
    """Every webhook received, newest first, filterable."""
    chosen, ignored = filters(request.args)
    before = _before(request.args.get("before"))
    rows, older = page(chosen, before)
    return respond("webhooks/index.html", "webhooks/_log.html", rows=rows, chosen=chosen, ignored=ignored, before=before,
                   older=older, verdicts=VERDICTS, kinds=KINDS, page_size=PAGE_SIZE)


def _before(raw: str | None) -> int | None:
    """The keyset of an older page: an id, or absent. Anything else is a broken link."""
    before = ids.parse(raw)
    if raw is not None and before is None:
        abort(400, description="“before” is the id of a webhook in the log.")
    return before


@bp.get("/<id:receipt_id>")
@role_required("dispatcher")
def show(receipt_id):
    """One webhook's headers and raw body (an htmx fragment, or a page of its own)."""
    receipt = db.session.get(WebhookReceipt, receipt_id)
    if receipt is None:
        abort(404, description=f"No webhook {receipt_id} in the log.")
    return respond("webhooks/show.html", "webhooks/_receipt.html", receipt=receipt,
                   pretty=formatted(receipt.body))

"""Staff pages around the board: the fleet (/couriers), stores (/stores), refunds
(/refunds), the webhook log (/webhooks) and staff accounts (/users). One blueprint per
page; this module holds what they share: answering htmx or a full page, and the
template filters for times (money and order links are the board's)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, flash, make_response, redirect, render_template, request, url_for

from ..extensions import db


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def respond(page: str, fragment: str, *, status: int = 200, **context):
    """The full page, or for an htmx request only the fragment it swaps in. A refused form
    answers its real status (409, 422) with its message inline: static/js/app.js has htmx
    swap those answers like a 200."""
    response = make_response(render_template(fragment if is_htmx() else page, **context), status)
    response.vary.add("HX-Request")
    return response


def saved(message: str, endpoint: str, fragment: str, context) -> Response:
    """After a change that worked: commit; then the fragment refreshed by
    `context(notice=message)` for htmx, or a flash and 303 to the page for a plain form."""
    db.session.commit()
    if is_htmx():
        return respond(fragment, fragment, **context(notice=message))
    flash(message)
    return redirect(url_for(endpoint), code=303)


def utc(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def local(value: datetime | None, timezone: str) -> str:
    """A time as the store's kitchen reads it."""
    return value.astimezone(ZoneInfo(timezone)).strftime("%a %Y-%m-%d %H:%M %Z") if value else ""


def register(app) -> None:
    from . import couriers, refunds, stores, users, webhook_log

    for module in (couriers, stores, refunds, webhook_log, users):
        app.register_blueprint(module.bp)
    app.jinja_env.filters.update(staff_utc=utc, staff_local=local)

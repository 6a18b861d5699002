"""What the staff pages share: answering htmx or a full page, and the times they show."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Response, flash, make_response, redirect, render_template, url_for

from ..extensions import db
from ..infra.htmx import is_htmx


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


def local(value: datetime | None, timezone: str | None, fmt: str = "%a %Y-%m-%d %H:%M %Z") -> str:
    """A time as the store's kitchen reads it (UTC for a store without a known time zone)."""
    if not value:
        return ""
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return value.astimezone(zone).strftime(fmt)

"""Error answers: JSON for machines (/api, /onetablet, /healthz), a page for people (the
base layout: navigation, and a way back)."""
from urllib.parse import urlsplit

from markupsafe import escape
from flask import current_app, jsonify, render_template, request, send_from_directory
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..extensions import db

MACHINE_PREFIXES = ("/api", "/onetablet", "/healthz")
# What a refused form says: in words, with what to do (Flask-WTF's own reasons, such as
# "The CSRF token is missing.", say neither). Pages and htmx toasts say the same.
CSRF_REFUSED = ("This form's security token is missing or out of date, so nothing was changed. "
                "Reload the page and submit the form again.")
# Error codes the webhooks and the API share, where Werkzeug's names would differ.
CODES = {413: ("too_large", "the body is over the 1 MiB limit")}


def _wants_json() -> bool:
    return request.path.startswith(MACHINE_PREFIXES) or request.accept_mimetypes.best == "application/json"


def _back() -> str | None:
    """The page the person came from, when it is one of ours (and not this one)."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or not referrer.path.startswith("/") or referrer.path == request.path:
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


def _page(error, code: int):
    try:
        return render_template("error.html", error=error, back=_back()), code
    except Exception:  # the layout needs the user, hence the database: it may be what failed
        current_app.logger.exception("the error page failed; a plain one instead")
        db.session.rollback()
        text = error.description if error is not None else "Something went wrong on our side; it has been logged."
        return (f"<!doctype html><title>Passline — {code}</title><h1>{code}</h1><p>{escape(text)}</p>"
                '<p><a href="/">Go to the board</a></p>'), code


def register(app):
    @app.get("/favicon.ico")
    def _favicon():
        """Browsers ask for it whatever the page says (a JSON answer, a PDF): the same icon."""
        return send_from_directory(app.static_folder, "favicon.svg", mimetype="image/svg+xml",
                                   max_age=86400)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        app.logger.info("CSRF refused on %s %s: %s", request.method, request.path, error.description)
        error.description = CSRF_REFUSED
        return _http_error(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if error.code and error.code >= 500:
            db.session.rollback()
        if _wants_json():
            code = (error.name or "error").lower().replace(" ", "_").replace("'", "")
            code, detail = CODES.get(error.code, (code, error.description))
            return jsonify(error=code, detail=detail), error.code
        return _page(error, error.code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return jsonify(error="internal_error", detail="an unexpected error; it has been logged"), 500
        return _page(None, 500)

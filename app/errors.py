"""Error answers: JSON for machines (/api, /onetablet), a page for people."""
from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db

MACHINE_PREFIXES = ("/api", "/onetablet", "/healthz")
# What a refused form says: in words, with what to do (Flask-WTF's own reasons, such as
# "The CSRF token is missing.", say neither). Pages and htmx toasts say the same.
CSRF_REFUSED = ("This form's security token is missing or out of date, so nothing was changed. "
                "Reload the page and submit the form again.")
# Error codes the webhooks and the API share, where Werkzeug's names would differ.
CODES = {413: ("too_large", "the body is over the 1 MiB limit")}


def _wants_json() -> bool:
    return request.path.startswith(MACHINE_PREFIXES) or request.accept_mimetypes.best == "application/json"


def register(app):
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
        return render_template("error.html", error=error), error.code

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return jsonify(error="internal_error", detail="an unexpected error; it has been logged"), 500
        return render_template("error.html", error=None), 500

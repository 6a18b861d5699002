"""HTTP security headers: a Content-Security-Policy that allows no inline script; a Server
header that names no software or versions (set by the server itself: here for Werkzeug's,
in gunicorn.conf.py for gunicorn's; nginx sends neither on); the client's address from the
proxy, and only when there is one (PROXY_FIX_X_FOR)."""
import re

from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import WSGIRequestHandler

SERVER = "Passline"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _quiet_development_server() -> None:
    """The development server (flask run, make demo, tests' live server) sends its own
    `Server: Werkzeug/x Python/y` on every answer, Socket.IO's included, before the app's
    headers, and `flask run` takes no request handler of ours; version_string() is the
    method http.server documents for overriding exactly this."""
    WSGIRequestHandler.version_string = lambda self: SERVER
    if not getattr(WSGIRequestHandler.log_request, "redacts", False):
        WSGIRequestHandler.log_request = _without_link_tokens(WSGIRequestHandler.log_request)


# A courier's link is its only credential (contract §3.5): its access log line shows "/c/…".
# (gunicorn keeps no access log; deploy/nginx.conf logs /c/ the same way.)
COURIER_LINK = re.compile(r"^/c/(?!sw\.js)[^/?]*")


def redact(path: str) -> str:
    return COURIER_LINK.sub("/c/…", path)


def _without_link_tokens(log_request):
    def logged(self, *args, **kwargs):
        path = getattr(self, "path", None)
        if path is not None:
            self.path = redact(path)
        try:
            log_request(self, *args, **kwargs)
        finally:
            if path is not None:
                self.path = path

    logged.redacts = True
    return logged


def register(app):
    _quiet_development_server()
    if app.config.get("PROXY_FIX_X_FOR"):
        # Outermost, so Socket.IO and the login throttle see the client, not nginx.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXY_FIX_X_FOR"]))

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

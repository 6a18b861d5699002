"""HTTP security headers: a Content-Security-Policy that allows no inline script; a Server
header that names no software or versions (set by the server itself: here for Werkzeug's,
in gunicorn.conf.py for gunicorn's; nginx sends neither on); the client's address from the
proxy, and only when there is one (PROXY_FIX_X_FOR)."""
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

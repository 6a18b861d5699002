"""Who may open a Socket.IO connection at all: only a signed-in session (contract §3.6).

The board's connect handler (app/board/sockets.py) runs only after Engine.IO has already
answered the handshake with a session id, and an anonymous polling client then holds a
server thread for each 25-second long-poll. So the refusal comes first, in front of the
Engine.IO app: a request to the Socket.IO path that starts a connection (no `sid` yet,
long-polling or a WebSocket upgrade alike) is answered 401 at once unless its session
cookie names an enabled account whose sessions are current, as Flask-Login's user loader
decides for every page (app/auth). A request that carries a sid belongs to a connection
that passed this check; Engine.IO itself refuses one it does not know."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

from flask import Flask
from flask_login import current_user
from werkzeug.wrappers import Response

from ..auth.views import CHECKED_AT_HANDSHAKE
from ..infra import crowd

REFUSED = json.dumps({"error": "unauthorized", "detail": "sign in first: live updates are for signed-in staff"})


class SignedInHandshakes:
    """WSGI middleware: `app.wsgi_app = SignedInHandshakes(app, app.wsgi_app, path)`, put
    in front of Flask-SocketIO's own middleware (which serves `path`)."""

    def __init__(self, app: Flask, wsgi_app, path: str):
        self.app, self.wsgi_app = app, wsgi_app
        self.path = "/" + path.strip("/") + "/"

    def __call__(self, environ, start_response):
        if self._opens_a_connection(environ) and not self._signed_in(environ):
            return Response(REFUSED, 401, mimetype="application/json")(environ, start_response)
        return self.wsgi_app(environ, start_response)

    def _opens_a_connection(self, environ) -> bool:
        path = environ.get("PATH_INFO") or ""
        return path.startswith(self.path) and "sid" not in parse_qs(environ.get("QUERY_STRING", ""))

    def _signed_in(self, environ) -> bool:
        """The session cookie, read as a page request reads it: one primary-key lookup of
        the account (the user loader); the request context's teardown ends the session.
        A thousand boards reconnect at once: they check in turn (app/infra/crowd.py), and
        the socket's connect handler takes who was found from the environ (app/auth/views.py)."""
        with crowd.gate, self.app.request_context(environ):
            staff = current_user._get_current_object()
            if staff.is_authenticated:
                environ[CHECKED_AT_HANDSHAKE] = staff  # the connect handler's, in this environ
            return staff.is_authenticated

"""Staff login, roles and sessions (views.py), the throttle on password guessing
(throttle.py), safe redirects after login (redirects.py), and the `user …` commands (cli.py)."""
from __future__ import annotations

from ..extensions import csrf, login_manager
from . import cli, throttle
from .views import Staff, bp, login, relogin, role_required  # noqa: F401  (what other areas use)


def init_app(app):
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    csrf.exempt(login)  # it checks the token itself (above)
    app.register_blueprint(bp)
    throttle.init_app(app, "auth.login")
    cli.register(app)

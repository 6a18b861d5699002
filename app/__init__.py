"""Passline: the dispatch console of a food-delivery platform that routes its orders
through OneTablet. `create_app()` builds the Flask app."""
from __future__ import annotations

import os

from flask import Flask

from .infra import routing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.path.join(ROOT, "instance"),
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    routing.for_order_ids(app)

    from .infra import config

    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    if app.config.get("CUSTOMER_WEBHOOK_URL") and not app.config.get("CUSTOMER_WEBHOOK_SECRET"):
        app.logger.warning("CUSTOMER_WEBHOOK_SECRET is not set: customer notifications go out "
                           "unsigned (PASSLINE_ENV=production refuses to start so)")

    _init_extensions(app)
    _register_blueprints(app)

    from . import cli
    from .infra import errors, security

    errors.register(app)
    security.register(app)
    cli.register(app)
    return app


def _init_extensions(app: Flask) -> None:
    from .infra import cooperative
    from .infra.db import configure_engine
    from .extensions import csrf, db, migrate, socketio

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"))
    csrf.init_app(app)
    # SocketIO keeps an earlier init_app's message queue when the next passes none (tests
    # build many apps in one process): forget it, so each app gets the queue it asks for.
    socketio.server_options.pop("client_manager", None)
    queue = {}
    if app.config["REDIS_URL"]:
        import socketio as python_socketio

        # Connecting gives up fast; a Redis that accepts but never answers holds only the
        # live publisher (app/infra/live.py), never a request.
        queue["client_manager"] = python_socketio.RedisManager(
            app.config["REDIS_URL"], channel=_socketio_channel(app.config["REDIS_URL"]),
            redis_options={"socket_connect_timeout": 0.5, "socket_keepalive": True})
    socketio.init_app(
        app,
        # gevent in a serving process (gunicorn.conf.py, wsgi.py), threads in tests and CLI
        async_mode=cooperative.async_mode(),
        **queue,
        # None: only this site's own pages may open a socket (the Origin must be this host,
        # as sent or as the proxy's X-Forwarded-Proto/Host say). An empty list would turn
        # the check off altogether.
        cors_allowed_origins=None,
        logger=False,
        engineio_logger=False,
    )


def _socketio_channel(redis_url) -> str:
    """Redis pub/sub ignores the database number: name the channel after it, so apps on
    different Redis databases (other deployments, parallel test runs) never hear each other."""
    from urllib.parse import urlparse

    database = (urlparse(redis_url).path.strip("/") or "0") if redis_url else "0"
    return f"passline-socketio-db{database}"


def _register_blueprints(app: Flask) -> None:
    from . import auth, health
    from .api import bp as api_bp
    from .reports import bp as reports_bp
    from .webhooks import bp as webhooks_bp
    from .extensions import csrf

    csrf.exempt(webhooks_bp)  # machine-to-machine, signed instead
    app.register_blueprint(health.bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(reports_bp)  # /reports, /reports.csv (managers)
    auth.init_app(app)
    from . import board

    board.init_app(app)  # / (the live board), order detail and actions, Socket.IO connect
    from . import staff

    staff.register(app)  # /couriers, /stores, /refunds, /webhooks, /users
    from . import couriers_app

    couriers_app.init_app(app)  # /c/<token>: couriers' phones, and the `courier …` commands

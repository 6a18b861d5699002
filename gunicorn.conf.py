"""Gunicorn settings for Passline: `gunicorn -c gunicorn.conf.py wsgi:app`.

Flask-SocketIO's deployment guide, gevent mode: one worker of gunicorn's `gevent` class
(WebSocket through simple-websocket, which Flask-SocketIO picks when gevent-websocket is
not installed). The worker monkey-patches the standard library before it loads the app,
so every request, open board, outbox sender and the scheduler is a greenlet: an open
board costs memory, not one of a fixed number of threads (docs/operations.md, "Serving
model"). One worker, because gunicorn's own balancing is not sticky: scale with several
gunicorns on their own ports behind nginx (deploy/nginx.conf) and REDIS_URL as the
Socket.IO message queue.

Every value can be overridden on the command line (`-b 127.0.0.1:8001`) or with
GUNICORN_CMD_ARGS.
"""
import os

import gunicorn.http.wsgi

# gunicorn names itself in every answer's Server header and has no setting to change it;
# this module constant is what it sends (forked workers inherit it). Say nothing of the
# software, as the development server does (app/infra/security.py).
gunicorn.http.wsgi.SERVER = "Passline"

bind = os.environ.get("PASSLINE_BIND", "127.0.0.1:8000")
worker_class = "gevent"
workers = 1  # never more: Socket.IO needs each client to stay on one process
# Open connections at once (boards, webhooks, pages): a greenlet each. Past it gunicorn
# stops accepting until one closes.
worker_connections = int(os.environ.get("PASSLINE_CONNECTIONS", "10000"))
keepalive = 5  # seconds; nginx keeps upstream connections open
timeout = 60
graceful_timeout = 20
accesslog = None  # nginx logs requests; errors still go to stderr
errorlog = "-"
loglevel = os.environ.get("PASSLINE_LOG_LEVEL", "info")
# gunicorn's control socket has one default path per user: several gunicorns on a host
# would take it from each other. Nothing here uses gunicornc.
control_socket_disable = True


def post_worker_init(worker):
    """Start the outbox worker and scheduler inside the serving process (not the master:
    threads do not survive fork). PASSLINE_SCHEDULER=off / PASSLINE_OUTBOX_WORKER=off
    leave them to another process."""
    app = worker.wsgi
    if "PASSLINE_SCHEDULER" not in getattr(app, "config", {}):
        return  # not Passline (bench/bare_app.py is served with these same settings)
    from app import background

    background.start(app)

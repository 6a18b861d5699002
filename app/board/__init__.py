"""The live dispatch board: kanban of open orders, order detail, staff actions (htmx),
live updates over Socket.IO."""
from flask import Flask


def init_app(app: Flask) -> None:
    from ..infra import crowd, live
    from ..extensions import socketio
    from . import cards, handshake, order_actions, reloads, sockets, strips  # noqa: F401  (order_actions adds routes to bp)
    from .routes import bp

    app.register_blueprint(bp)
    app.extensions[reloads.EXTENSION] = reloads.SharedRenders(crowd.gate)  # one per app, made once
    live.init_app(app, order_card=cards.order_payload, order_cards=cards.order_payloads, 
                  boards_open=lambda: sockets.count(app), strips=strips.STRIPS)
    # socketio.on registers on the server this app's init_app just built (one per app).
    socketio.on("connect")(sockets.connect)
    socketio.on("disconnect")(sockets.disconnect)
    socketio.on("board_changed_since")(sockets.changed_since)
    # In front of the Socket.IO app that socketio.init_app put in app.wsgi_app: anonymous
    # handshakes are refused before Engine.IO opens anything.
    app.wsgi_app = handshake.SignedInHandshakes(app, app.wsgi_app, socketio.sockio_mw.engineio_path)

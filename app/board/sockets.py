"""The board's Socket.IO side: only logged-in staff connect, and they join the room that
app/live.py pushes every committed change to."""
from flask_login import current_user
from flask_socketio import join_room

from ..live import BOARD_ROOM


def connect(auth=None):
    """Refuse anonymous sockets (the session cookie of the page decides)."""
    if not current_user.is_authenticated:
        return False
    join_room(BOARD_ROOM)
    return True

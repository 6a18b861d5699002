"""Under gevent (a serving process), a password hash runs off the loop: the other greenlets
(boards, webhooks) keep running while one login is checked. In a child process: gevent's
patching would change the test process itself."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent('''
    from app.infra import cooperative
    cooperative.patch()
    import gevent
    from werkzeug.security import check_password_hash, generate_password_hash
    from app.services import accounts

    stored = generate_password_hash("correct horse")  # scrypt, as in production

    def ticks_during(check):
        """How often another greenlet ran while `check` did (every millisecond it may)."""
        ticks = [0]
        def ticker():
            while True:
                gevent.sleep(0.001)
                ticks[0] += 1
        other = gevent.spawn(ticker)
        gevent.sleep(0.01)  # it runs
        before = ticks[0]
        assert check() is False
        during = ticks[0] - before
        other.kill()
        return during

    on_the_loop = ticks_during(lambda: check_password_hash(stored, "wrong"))
    off_the_loop = ticks_during(lambda: cooperative.off_the_loop(check_password_hash, stored, "wrong"))

    import sys
    from app.extensions import db
    from tests.helpers import make_app
    app = make_app("sqlite:///" + sys.argv[1], REDIS_URL=None)
    with app.app_context():
        db.create_all()
        accounts.create_user("nia", role="dispatcher", password="correct horse")  # its hash is off the loop too
        login = ticks_during(lambda: accounts.authenticate("nia", "wrong") is not None)
    print(on_the_loop, off_the_loop, login)
''')


@pytest.mark.slow  # a child process
def test_a_password_hash_does_not_stop_the_other_greenlets(tmp_path):
    # Its own SQLite file, whatever database the suite runs on (settings read DATABASE_URL).
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "db.sqlite3")], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    on_the_loop, off_the_loop, login = map(int, done.stdout.split())
    assert on_the_loop == 0  # the hash in the greenlet itself: nothing else ran (why it moved)
    assert off_the_loop > 0 and login > 0


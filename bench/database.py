"""The benchmark's own database, emptied and built from the models at the start of a run."""
from __future__ import annotations

import os
import tempfile

from sqlalchemy import text


def url_from_environment() -> str:
    """BENCH_DATABASE_URL, never DATABASE_URL: the bench wipes the database it is given."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="passline-bench-"), "bench.sqlite3")


def fresh(url: str) -> None:
    from app import create_app
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None})
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        else:
            db.drop_all()
        db.create_all()
        db.session.remove()
        db.engine.dispose()


def create_staff(url: str, username: str, password: str, role: str = "dispatcher") -> None:
    from app import create_app
    from app.services import accounts
    from app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None})
    with app.app_context():
        accounts.create_user(username, role=role, password=password)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()

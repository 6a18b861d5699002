"""The one clock. Tests replace `now` to move time without sleeping."""
from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)

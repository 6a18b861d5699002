"""Every timestamp Passline writes comes from app.clock, column defaults included: a test
that moves the clock moves them too."""
from datetime import datetime, timezone

from app.extensions import db
from app.models import Courier, OutboxMessage


def test_column_defaults_read_the_clock_when_the_row_is_written(app, frozen_clock):
    frozen_clock.now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    with app.app_context():
        courier = Courier(name="Ada Rider")
        message = OutboxMessage(target="onetablet", kind="create_order", path="/orders", payload={},
                                idempotency_key="k-1")
        db.session.add_all([courier, message])
        db.session.commit()
        assert courier.created_at == frozen_clock.now
        assert message.created_at == message.next_attempt_at == frozen_clock.now

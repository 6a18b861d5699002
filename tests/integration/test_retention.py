"""Retention (app/services/retention.py): dedupe keys older than DEDUPE_KEEP_DAYS are pruned by the
scheduler, and a delivery replayed after that is still applied once; webhook receipts are
kept unless RECEIPTS_KEEP_DAYS is set."""
from sqlalchemy import func, select

from app.services import retention
from app.extensions import db
from app.models import DedupeKey, WebhookReceipt


def keys(app) -> int:
    return count(app, DedupeKey)


def count(app, model) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_keys_past_the_window_are_pruned_and_newer_ones_kept(app, hook, submitted, frozen_clock, monkeypatch):
    assert hook.confirm(submitted).status_code == 200
    old = keys(app)  # the menu webhook's, and the confirmation's webhook-id and content keys
    frozen_clock.advance(days=30.01)
    assert hook.ready(submitted).status_code == 200
    monkeypatch.setattr(retention, "BATCH", 1)  # several batches, each its own transaction
    with app.app_context():
        assert retention.prune_dedupe_keys() == old
    assert keys(app) == 2  # the ready's, just received


def test_a_delivery_replayed_after_its_keys_were_pruned_changes_nothing(app, hook, api, submitted, frozen_clock):
    assert hook.confirm(submitted, webhook_id="msg_replayed").status_code == 200
    frozen_clock.advance(days=31)
    with app.app_context():
        retention.prune_dedupe_keys()
    assert keys(app) == 0
    replay = hook.confirm(submitted, webhook_id="msg_replayed")
    assert replay.status_code == 200 and replay.get_json()["status"] == "duplicate"
    timeline = api.order(submitted)["timeline"]
    assert [e["event"] for e in timeline if e["actor"] == "onetablet"] == ["confirmed"]


def test_the_scheduler_runs_retention_with_the_overdue_check(app, runner, hook, submitted, frozen_clock):
    assert hook.confirm(submitted).status_code == 200
    old = keys(app)
    frozen_clock.advance(days=31)
    result = runner.invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0
    assert f"retention: {old} dedupe key(s), 0 webhook receipt(s) pruned" in result.output
    assert keys(app) == 0


def test_webhook_receipts_are_kept_unless_a_retention_is_set(app, hook, submitted, frozen_clock):
    assert hook.confirm(submitted).status_code == 200
    frozen_clock.advance(days=400)
    assert hook.ready(submitted).status_code == 200
    received = count(app, WebhookReceipt)
    with app.app_context():
        assert retention.run().receipts == 0  # RECEIPTS_KEEP_DAYS=0, the default: the log is kept
    assert count(app, WebhookReceipt) == received

    app.config["RECEIPTS_KEEP_DAYS"] = 365
    with app.app_context():
        pruned = retention.run()
    assert pruned.receipts == received - 1  # all but the ready's, just received
    with app.app_context():
        assert db.session.execute(select(WebhookReceipt.kind)).scalars().all() == ["order_ready"]

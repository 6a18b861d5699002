"""Retention (app/retention.py): dedupe keys older than DEDUPE_KEEP_DAYS are pruned by the
scheduler, and a delivery replayed after that is still applied once."""
from sqlalchemy import func, select

from app import retention
from app.extensions import db
from app.models import DedupeKey


def keys(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(DedupeKey)).scalar_one()


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
    assert result.exit_code == 0 and f"retention: {old} dedupe key(s) pruned" in result.output
    assert keys(app) == 0

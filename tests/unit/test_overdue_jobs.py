"""The scheduler's job list and the tick's query, without a database."""
from datetime import datetime, timezone

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.dialects import postgresql, sqlite

from app import jobs
from app.services import overdue, retention


class FakeApp:
    def __init__(self, **config):
        self.config = {"OVERDUE_CHECK_SECONDS": 15.0, "RETENTION_CHECK_SECONDS": 3600.0, **config}
        self.extensions = {}


NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)


def test_the_overdue_job_runs_every_OVERDUE_CHECK_SECONDS_and_retention_every_RETENTION_CHECK_SECONDS():
    found = jobs.jobs(FakeApp(OVERDUE_CHECK_SECONDS=7.5, RETENTION_CHECK_SECONDS=600))
    assert [(j.name, j.run, j.seconds) for j in found] == [
        ("overdue", overdue.tick, 7.5), ("retention", retention.run, 600)]


def test_the_scheduler_never_runs_a_job_twice_at_once_and_collapses_missed_runs():
    scheduler = jobs.build(FakeApp())
    scheduler.start(paused=True)  # defaults apply once jobs are added; paused runs nothing
    try:
        tick, prune = scheduler.get_jobs()
        assert (tick.id, prune.id) == ("overdue", "retention")
        assert isinstance(tick.trigger, IntervalTrigger) and tick.trigger.interval.total_seconds() == 15
        for job in (tick, prune):
            assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, None)
    finally:
        scheduler.shutdown()


def test_on_postgresql_the_tick_skips_rows_another_transaction_holds():
    sql = str(overdue.due_query(NOW).compile(dialect=postgresql.dialect()))
    assert "WHERE orders.next_alarm_at <= " in sql
    assert "ORDER BY orders.next_alarm_at" in sql
    assert sql.rstrip().endswith("FOR UPDATE SKIP LOCKED")


def test_on_sqlite_the_tick_relies_on_begin_immediate_instead_of_row_locks():
    sql = str(overdue.due_query(NOW, limit=50).compile(dialect=sqlite.dialect()))
    assert "WHERE orders.next_alarm_at <= ?" in sql and "LIMIT ?" in sql
    assert "FOR UPDATE" not in sql

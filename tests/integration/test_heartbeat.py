"""A stopped scheduler is seen (SRE audit): each overdue run leaves a heartbeat; /healthz
and the board's attention strip say when it is late. Time moves with frozen_clock."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.services import heartbeat
from app import jobs
from app.extensions import db
from app.models import Heartbeat


def overdue_job(app):
    return next(job for job in jobs.jobs(app) if job.name == "overdue")


def beats(app):
    with app.app_context():
        return {row.name: row for row in db.session.execute(select(Heartbeat)).scalars()}


def test_each_scheduled_run_records_its_heartbeat_once_per_job(app, frozen_clock):
    for job in jobs.jobs(app):
        jobs.run_once(app, job)
    first = frozen_clock.now
    later = frozen_clock.advance(seconds=15)
    jobs.run_once(app, overdue_job(app))
    rows = beats(app)
    assert set(rows) == {"overdue", "retention"}  # one row per job, rewritten (upsert)
    assert rows["overdue"].at == later and rows["retention"].at == first
    assert ":" in rows["overdue"].by  # host:pid


def test_a_failed_tick_leaves_no_heartbeat(app, frozen_clock, monkeypatch, caplog):
    def broken():
        raise RuntimeError("boom")

    jobs.run_once(app, jobs.Job("overdue", broken, 15, "{}"))
    assert beats(app) == {}


def test_healthz_says_unknown_but_200_before_any_tick(client, frozen_clock):
    frozen_clock.advance(hours=1)
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200
    assert body["checks"]["scheduler"].startswith("unknown") and body["scheduler"]["last_run"] is None


def test_healthz_reports_the_last_tick_and_its_age(app, client, frozen_clock):
    jobs.run_once(app, overdue_job(app))
    frozen_clock.advance(seconds=20)
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200 and body["checks"]["scheduler"] == "ok"
    assert body["scheduler"]["age_seconds"] == 20
    assert body["scheduler"]["last_run"] == (frozen_clock.now - timedelta(seconds=20)).isoformat()


def test_healthz_says_degraded_with_the_reason_once_the_tick_is_late(app, client, frozen_clock):
    """Still 200 (contract §3.4: the database and Redis answer): a balancer must not take every
    process out because the scheduler died; monitoring reads the status."""
    app.config["OVERDUE_CHECK_SECONDS"] = 15  # late after 3 × 15 s + 60 s
    jobs.run_once(app, overdue_job(app))
    frozen_clock.advance(seconds=105)
    assert client.get("/healthz").get_json()["status"] == "ok"
    frozen_clock.advance(seconds=1)
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "degraded"
    assert body["checks"]["scheduler"].startswith("late") and body["scheduler"]["state"] == "late"
    assert "is a scheduler running" in body["reason"]
    jobs.run_once(app, overdue_job(app))  # a scheduler is back
    assert client.get("/healthz").get_json()["status"] == "ok"


def test_a_late_tick_just_after_this_process_started_is_unknown_not_late(app, client, frozen_clock):
    """A fresh deploy after a long stop: the last heartbeat is old, and the scheduler is
    starting beside this process. Not failed during the first limit's span."""
    with app.app_context():
        heartbeat.beat("overdue", frozen_clock.now - timedelta(hours=2))
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["checks"]["scheduler"].startswith("unknown")
    frozen_clock.advance(seconds=heartbeat.limit_seconds(app.config) + 1)
    assert client.get("/healthz").get_json()["status"] == "degraded"


def test_the_board_warns_dispatchers_when_overdue_checks_have_stopped(app, staff, frozen_clock):
    staff.login("dispatcher")
    jobs.run_once(app, overdue_job(app))
    page = staff.get("/board/attention", htmx=True).get_data(as_text=True)
    assert "scheduler-late" not in page and "Nothing overdue" in page
    frozen_clock.advance(minutes=4)
    page = staff.get("/board/attention", htmx=True).get_data(as_text=True)
    assert ("Overdue checks have not run for 4 min: alarms are not being raised. "
            "Tell whoever runs Passline.") in page
    assert "Nothing overdue" not in page
    assert 'data-attention="scheduler-late"' in staff.get("/").get_data(as_text=True)


def test_a_job_failing_every_tick_is_logged_once_then_its_recovery(app, frozen_clock, caplog):
    calls = {"n": 0}

    def flaky():
        calls["n"] += 1
        if calls["n"] <= 50:
            raise RuntimeError("database is down")
        return 0

    job = jobs.Job("overdue", flaky, 15, "{}")
    for _ in range(51):
        jobs.run_once(app, job)
    records = [r for r in caplog.records if "job overdue" in r.getMessage()]
    assert len(records) == 2, [r.getMessage() for r in records]
    assert records[0].exc_info and "job overdue failed; it runs again in 15s" in records[0].getMessage()
    assert records[1].getMessage().startswith("job overdue: working again after")
    assert "overdue" in beats(app)

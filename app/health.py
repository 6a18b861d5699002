"""/healthz: 200 once the database (and Redis, when configured) answers (contract §3.4), 503
with the reason otherwise. It also says whether the overdue tick has run recently
(app/services/heartbeat.py): a late one makes the status "degraded", still 200, since a load
balancer that took every process out because the one scheduler died would take the board
(and its warning to dispatchers) down with it; monitoring alerts on the status.
Which process ran the tick (host:pid) is shown to logged-in staff only."""
from flask import Blueprint, current_app, jsonify
from flask_login import current_user
from sqlalchemy import text

from .services import heartbeat
from .extensions import db

bp = Blueprint("health", __name__)
bp.record_once(lambda state: heartbeat.mark_started(state.app))


@bp.get("/healthz")
def healthz():
    """Liveness for load balancers and `make demo`, and whether overdue alarms are raised."""
    checks, body = {}, {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - reported, not raised
        checks["database"] = f"error: {error.__class__.__name__}"
        db.session.rollback()
    if checks["database"] == "ok":
        try:
            scheduler = heartbeat.overdue_status()
            checks["scheduler"] = "ok" if scheduler.state == "ok" else f"{scheduler.state}: {scheduler.reason}"
            body["scheduler"] = scheduler.as_json()
            if not current_user.is_authenticated:
                del body["scheduler"]["by"]  # host:pid, for staff only: nothing a balancer needs
        except Exception as error:  # noqa: BLE001 - e.g. the heartbeats table not migrated yet
            checks["scheduler"] = f"error: {error.__class__.__name__}"
            db.session.rollback()
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        try:
            import redis

            redis.Redis.from_url(redis_url, socket_timeout=1).ping()
            checks["redis"] = "ok"
        except Exception as error:  # noqa: BLE001
            checks["redis"] = f"error: {error.__class__.__name__}"
    # "unknown" is no alarm: no tick recorded yet, or this process has just started.
    failing = [f"{name} {value}" for name, value in checks.items() if value.startswith("error")]
    late = [f"{name} {value}" for name, value in checks.items() if value.startswith("late")]
    if failing or late:
        body["reason"] = "; ".join(failing + late)
    status = "unavailable" if failing else "degraded" if late else "ok"
    return jsonify(status=status, checks=checks, **body), 503 if failing else 200

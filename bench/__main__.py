"""`make bench` (python -m bench): real gunicorn servers on 127.0.0.1, bounded loads from
this process, one table of figures each measured against a baseline of the same run.

Settings (environment):
  BENCH_QUICK=1          a smaller, faster run (a smoke test of the bench itself)
  BENCH_DATABASE_URL     the database to wipe and use (default: a fresh SQLite file);
                         PostgreSQL is the production setup
  BENCH_REDIS_URL        a Redis for the Socket.IO message queue (default: none)
  BENCH_ONLY=a,b         run only these sections: webhooks, push, boards, board, overdue, reports, pages

The table is printed and written to bench/results/latest.md.
"""
from __future__ import annotations

import importlib
import os
import platform
import sys
import time
import traceback
from datetime import datetime, timezone

from . import database, servers, traffic
from .table import Row, markdown

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def _sizes(quick: bool) -> dict:
    if quick:
        return {"webhooks": 400, "pushes": 20, "clients": 50, "board_orders": 2000, "overdue_orders": 10_000,
                "report_orders": 20_000, "open_boards": (0, 100, 300), "storm": 300}
    return {"webhooks": 3000, "pushes": 100, "clients": 50, "board_orders": 2000, "overdue_orders": 100_000,
            "report_orders": 200_000, "open_boards": (0, 100, 1000, 2000), "storm": 1000}


def _owned(module: str, *args, **kwargs) -> list[Row]:
    """Run another area's benchmark (bench/<module>.py exposes run(...))."""
    try:
        bench = importlib.import_module(f"bench.{module}")
    except ModuleNotFoundError as error:
        if error.name != f"bench.{module}":
            raise
        return [Row(f"{module}: not measured", None, "", note=f"bench/{module}.py is not there yet")]
    return list(_as_rows(bench.run(*args, **kwargs)))


def _as_rows(result):
    for row in result or []:
        yield row if isinstance(row, Row) else Row(**row)


def main() -> int:
    quick = os.environ.get("BENCH_QUICK") not in (None, "", "0")
    only = {s.strip() for s in os.environ.get("BENCH_ONLY", "").split(",") if s.strip()}
    wanted = lambda section: not only or section in only  # noqa: E731
    sizes = _sizes(quick)
    database_url = database.url_from_environment()
    redis_url = os.environ.get("BENCH_REDIS_URL") or None
    print(f"bench: {'quick' if quick else 'full'} run on {database_url.split('@')[-1]}"
          f"{' + Redis' if redis_url else ''}", flush=True)
    database.fresh(database_url)

    env = servers.passline_env(database_url, redis_url=redis_url, webhook_secret=traffic.SECRET,
                               platform_key=traffic.PLATFORM_KEY)
    rows: list[Row] = []
    started = time.monotonic()
    app = servers.Server(env)
    bare = servers.Server(dict(os.environ), target="bench.bare_app:app")
    with app, bare:  # the sections that need the servers
        _run_sections(rows, wanted, [
            ("webhooks", lambda: _section("webhooks").run(app.url, bare.url, webhooks=sizes["webhooks"])),
            ("push", lambda: _section("push").run(app.url, database_url, clients=sizes["clients"],
                                                  pushes=sizes["pushes"])),
        ])
        peak = app.peak_rss_mb()
        # Last: thousands of sockets raise the process's peak memory, reported by the section.
        _run_sections(rows, wanted, [
            ("boards", lambda: _section("boards").run(app.url, database_url, levels=sizes["open_boards"],
                                                      storm=sizes["storm"], peak_rss=app.peak_rss_mb)),
        ])
    # Other areas' benches seed their own data: each gets the database empty again.
    _run_sections(rows, wanted, [
        ("board", lambda: _owned("board", database_url, orders=sizes["board_orders"])),
        ("overdue", lambda: _owned("overdue", database_url, orders=sizes["overdue_orders"])),
        ("reports", lambda: _owned("reports", database_url, orders=sizes["report_orders"])),
        ("pages", lambda: _owned("pages", database_url, orders=sizes["board_orders"],
                                 receipts=20_000 if quick else 100_000)),
    ], before=lambda: database.fresh(database_url))
    if peak is not None:
        rows.append(Row("app process peak memory (VmHWM), webhooks and push", peak, "MB",
                        target="< 300 MB", ok=peak < 300))

    table = markdown(rows)
    header = (f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {'quick' if quick else 'full'} run, "
              f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
              f"database {database_url.split(':')[0]}{', Redis' if redis_url else ''}, "
              f"{time.monotonic() - started:.0f} s.")
    print("\n" + header + "\n\n" + table)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "latest.md"), "w") as f:
        f.write(header + "\n\n" + table + "\n")
    return 0  # a missed target is reported in the table, not an error


def _run_sections(rows: list[Row], wanted, sections, before=None) -> None:
    for name, section in sections:
        if not wanted(name):
            continue
        print(f"bench: {name}…", flush=True)
        try:
            if before:
                before()
            rows.extend(section())
        except Exception as error:  # noqa: BLE001 - one broken section must not hide the rest
            traceback.print_exc()
            rows.append(Row(f"{name}: failed", None, "", note=f"{error.__class__.__name__}: {error}"))


def _section(name: str):
    return importlib.import_module(f"bench.{name}")


if __name__ == "__main__":
    sys.exit(main())

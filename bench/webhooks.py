"""Webhook throughput and latency: signed confirmations and readies on real orders, sent by
50 and 200 concurrent senders, against the bare endpoint (bench/bare_app.py) at the same
concurrency, with the same bodies and headers."""
from __future__ import annotations

from . import load, traffic
from .table import Row


def _jobs(order_ids):
    # One order per job: its confirmation, then its ready, as a restaurant sends them.
    return [[traffic.confirm(i), traffic.ready(i)] for i in order_ids]


def _measure(url: str, jobs, senders: int) -> load.Result:
    result = load.run(url, jobs, senders)
    if set(result.statuses) != {200}:
        bad = next(a for a in result.answers if a.status != 200)
        raise RuntimeError(f"{url}: answers {dict(result.statuses)}, e.g. {bad.status} {bad.body[:300]!r}")
    return result


def run(app_url: str, bare_url: str, *, webhooks: int, levels=(50, 200)) -> list[Row]:
    warm = traffic.new_ids(100, "warm")
    traffic.create_orders(app_url, warm)
    _measure(app_url, _jobs(warm), 20)
    _measure(bare_url, _jobs(warm), 20)

    rows = []
    for senders in levels:
        ids = traffic.new_ids(webhooks // 2, f"wh{senders}")
        traffic.create_orders(app_url, ids)
        jobs = _jobs(ids)
        app = _measure(app_url, jobs, senders)
        bare = _measure(bare_url, jobs, senders)
        label = f"webhooks, {senders} senders"
        ratio = app.throughput / bare.throughput
        rows.append(Row(f"{label}: throughput", app.throughput, "/s", bare.throughput, "bare endpoint",
                        "≥ 0.5× bare", ratio >= 0.5))
        p50, p99 = app.percentile(50), app.percentile(99)
        rows.append(Row(f"{label}: p50 latency", p50, "ms", bare.percentile(50), "bare endpoint"))
        rows.append(Row(f"{label}: p99 latency", p99, "ms", bare.percentile(99), "bare endpoint",
                        "< 50 ms" if senders == 50 else "", p99 < 50 if senders == 50 else None))
    return rows

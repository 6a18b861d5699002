"""Many open boards on one process (issue 18): signed confirmations offered at a fixed rate
(open loop: each latency counts from the send's due time, so a slow server cannot slow
the offer down) while 0, 100, 1,000 and 2,000 logged-in WebSocket boards are open, and
whether every board received every confirmation's update; then a reconnect storm: 1,000
boards dropped at once and reconnected at once (each reloading the board, as board.js
does: one request, whose answer carries the columns, the attention strip and the courier
list) while webhooks keep arriving, and whether every board ends equal to a fresh load.
Boards: bench/sockets.py (asyncio client processes). Webhooks: asyncio (aiohttp) here."""
from __future__ import annotations

import asyncio
import time

import aiohttp

from . import database, load, push, traffic
from .sockets import Boards, versions
from .table import Row

USER, PASSWORD = "bench-boards", "bench-boards-password"
ANSWER_TIMEOUT = 30.0  # seconds: OneTablet gives up on a webhook well before this


def offer(base_url: str, requests: list[load.Request], rate: float) -> list[tuple[int, float]]:
    """Send each request at its due time (rate per second); (status, latency from due time) each,
    status 0 when it got no answer within ANSWER_TIMEOUT."""
    return asyncio.run(_offer(base_url, requests, rate))


async def _offer(base_url, requests, rate):
    loop = asyncio.get_running_loop()
    timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        start = loop.time() + 0.2

        async def one(i, request):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            try:
                async with http.request(request.method, base_url + request.path, data=request.body,
                                        headers=request.headers, timeout=timeout) as answer:
                    await answer.read()
                    status = answer.status
            except (aiohttp.ClientError, asyncio.TimeoutError):
                status = 0
            return status, loop.time() - due

        return await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))


def _latencies(results, q) -> float:
    answered = [latency for status, latency in results if status == 200]
    return load.percentile(answered, q) * 1000 if answered else float("nan")


def run(base_url: str, database_url: str, *, levels=(0, 100, 1000, 2000), rates=(20, 100),
        seconds: float = 5.0, storm: int = 1000, processes: int = 4, peak_rss=None) -> list[Row]:
    database.create_staff(database_url, USER, PASSWORD)
    session = push.login(base_url, USER, PASSWORD)
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.get_dict().items())
    boards = Boards(base_url, cookie, session.headers["User-Agent"], processes=processes)
    rows: list[Row] = []
    baseline: dict[int, float] = {}
    try:
        for level in levels:
            ids = {rate: traffic.new_ids(int(rate * seconds), f"b{level}r{rate}") for rate in rates}
            traffic.create_orders(base_url, [i for batch in ids.values() for i in batch])
            if level > boards.open_count:
                began = time.monotonic()
                boards.open(level - boards.open_count)
                opened_in = time.monotonic() - began
            else:
                opened_in = 0.0
            time.sleep(1.0)  # the creations' pushes land before counting starts
            for rate in rates:
                boards.reset()
                results = offer(base_url, [traffic.confirm(i) for i in ids[rate]], rate)
                answered = sum(status == 200 for status, _ in results)
                counts = boards.wait_for(answered) if boards.open_count else []
                rows += _rows(level, boards.open_count, rate, results, answered, counts, opened_in, baseline)
            if peak_rss:
                rows.append(Row(f"app process peak memory (VmHWM) with {boards.open_count:,} boards open",
                                peak_rss(), "MB", target="< 600 MB" if level >= 2000 else "",
                                ok=peak_rss() < 600 if level >= 2000 else None))
    finally:
        boards.close()
    if storm:  # its own boards, exactly `storm` of them
        boards = Boards(base_url, cookie, session.headers["User-Agent"], processes=processes)
        try:
            rows += _storm(base_url, session, boards, storm)
        finally:
            boards.close()
    return rows


def _rows(level, open_count, rate, results, answered, counts, opened_in, baseline) -> list[Row]:
    p50, p99 = _latencies(results, 50), _latencies(results, 99)
    if level == 0:
        baseline[rate] = p99
    label = f"webhooks at {rate}/s, {open_count:,} boards open"
    received, expected = sum(counts), answered * len(counts)
    every = all(c == answered for c in counts)
    target = level >= 2000 and rate == 20
    note = f"answered {answered}/{len(results)}"
    if counts:
        note += (f"; board events received {received:,} / {expected:,}"
                 f"{'' if every else f' (fewest on a board: {min(counts)})'}")
    if opened_in:
        note += f"; {open_count:,} boards connected in {opened_in:.1f} s"
    rows = [Row(f"{label}: p50", p50, "ms"),
            Row(f"{label}: p99", p99, "ms", baseline.get(rate), f"0 boards at {rate}/s",
                "< 100 ms" if target else "", (p99 < 100 and answered == len(results)) if target else None, note)]
    if counts:
        rows.append(Row(f"{label}: board events received ÷ expected", received / expected if expected else 0, "",
                        target="every board every event" if target else "", ok=every if target else None))
    return rows


def _storm(base_url: str, session, boards: Boards, size: int) -> list[Row]:
    """Open `size` boards, drop their sockets at once and reconnect them all at once while
    confirmations arrive at 20/s for 10 s."""
    boards.open(size)
    ids = traffic.new_ids(200, "storm")
    traffic.create_orders(base_url, ids)
    time.sleep(1.0)
    boards.reset(track=True)
    boards.drop()
    boards.reconnect_send()
    results = offer(base_url, [traffic.confirm(i) for i in ids], 20)
    reconnected, took = boards.reconnect_wait()
    time.sleep(2.0)  # the last confirmations' pushes land
    fresh = versions(session.get(base_url + "/", headers={"HX-Request": "true"}, timeout=30).text)
    equal = boards.equal_to(fresh)
    answered = sum(status == 200 for status, _ in results)
    p99 = _latencies(results, 99)
    label = f"reconnect storm: {boards.open_count:,} boards dropped and reconnected at once, webhooks at 20/s"
    return [Row(f"{label}: webhook p99", p99, "ms", target="< 1 s", ok=p99 < 1000 and answered == len(results),
                note=f"answered {answered}/{len(results)}; {reconnected:,} reconnected and reloaded in {took:.1f} s"),
            Row(f"{label}: boards equal to a fresh load", equal, "", boards.open_count, "boards",
                "all", equal == boards.open_count)]

"""Thousands of logged-in boards for the bench, held by a few client processes, each one
asyncio loop of raw Engine.IO/Socket.IO WebSockets (aiohttp): the load generator must not be
the bottleneck, so a board does the least a board does — answer pings, count its "order"
events and, when asked, keep each order's newest version as board.js does.

`Boards(url, cookie_header, user_agent, processes=4)`: `.open(n)` more boards, `.reset()`,
`.counts()`, `.drop()` every socket at once, `.reconnect()` all at once (each then reloads
the board fragment, as board.js does on a reconnect: one request, which carries the
attention strip and courier list too), `.equal_to(fresh)`, `.stamping()` then
`.arrivals(order_id)` (when its card reached each board), `.close()`.
Bounded: every wait has a timeout; 127.0.0.1 only.
"""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import re
import time

import aiohttp

CARD = re.compile(r'data-order-id="([^"]+)"[^>]*?data-version="(\d+)"')
OPEN_AT_ONCE = 50  # handshakes in flight per process while opening boards


def versions(fragment: str) -> dict[str, int]:
    """Each card's order id -> version in a board page or fragment."""
    return {order_id: int(version) for order_id, version in CARD.findall(fragment)}


class _Board:
    def __init__(self):
        self.count = 0
        self.seen: dict[str, int] = {}
        self.arrived: dict[str, float] = {}  # order id -> when its first card arrived (stamping)
        self.ws = None
        self.task = None


class _Holder:
    """One client process: its boards and the commands of the bench process."""

    def __init__(self, conn, base_url: str, headers: dict):
        self.conn, self.base_url, self.headers = conn, base_url, headers
        self.ws_url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.boards: list[_Board] = []
        self.track = False  # keep versions (the storm), not only counts
        self.stamp = False  # keep when each order's card first arrived (push latency)

    async def main(self):
        loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        async with aiohttp.ClientSession(connector=connector, headers=self.headers) as self.http:
            while True:
                command, *args = await loop.run_in_executor(None, self.conn.recv)
                if command == "close":
                    await self._drop()
                    self.conn.send(("closed",))
                    return
                self.conn.send(await getattr(self, "_" + command)(*args))

    async def _open(self, n: int):
        gate = asyncio.Semaphore(OPEN_AT_ONCE)
        new = [_Board() for _ in range(n)]
        results = await asyncio.gather(*(self._connect(b, gate) for b in new))
        self.boards += [b for b, ok in zip(new, results) if ok]
        return sum(results)

    async def _connect(self, board: _Board, gate=None, reload: bool = False) -> bool:
        ready = asyncio.get_running_loop().create_future()
        board.task = asyncio.create_task(self._listen(board, ready))
        try:
            if gate:
                async with gate:
                    ok = await asyncio.wait_for(asyncio.shield(ready), 60)
            else:
                ok = await asyncio.wait_for(asyncio.shield(ready), 60)
        except asyncio.TimeoutError:
            ok = False
        if ok and reload:  # board.js: on a reconnect, reload the columns (the strips come with them, out of band)
            async with self.http.get(self.base_url + "/", headers={"HX-Request": "true"},
                                     timeout=aiohttp.ClientTimeout(total=60)) as answer:
                loaded = versions(await answer.text())
            for order_id, version in loaded.items():
                if version > board.seen.get(order_id, 0):
                    board.seen[order_id] = version
        return ok

    async def _listen(self, board: _Board, ready):
        try:
            board.ws = ws = await self.http.ws_connect(self.ws_url, autoping=True, max_msg_size=0,
                                                       timeout=aiohttp.ClientWSTimeout(ws_close=5))
            async for message in ws:
                data = message.data
                if not isinstance(data, str):
                    continue
                if data.startswith('42["order'):  # "order": one card, "orders": a list of them
                    arrived = time.monotonic()  # the same clock in every process of the machine
                    payloads = json.loads(data[2:])[1] if self.track or self.stamp or data[9] == "s" else None
                    if payloads is None:
                        board.count += 1
                        continue
                    payloads = payloads if isinstance(payloads, list) else [payloads]
                    board.count += len(payloads)
                    for payload in payloads if self.track else ():
                        if payload["version"] > board.seen.get(payload["id"], 0):
                            board.seen[payload["id"]] = payload["version"]
                    for payload in payloads if self.stamp else ():
                        board.arrived.setdefault(payload["id"], arrived)
                elif data == "2":
                    await ws.send_str("3")  # Engine.IO ping -> pong
                elif data.startswith("0"):
                    await ws.send_str("40")  # Engine.IO open -> Socket.IO connect
                elif data.startswith("40") and not ready.done():
                    ready.set_result(True)
                elif data.startswith("44") and not ready.done():
                    ready.set_result(False)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            pass
        finally:
            if not ready.done():
                ready.set_result(False)

    async def _reset(self, track: bool = False):
        self.track = track
        for b in self.boards:
            b.count = 0
            b.seen.clear()
        return len(self.boards)

    async def _stamping(self):
        """From now on, note when each order's card arrives (forgetting earlier ones)."""
        self.stamp = True
        for b in self.boards:
            b.arrived.clear()
        return len(self.boards)

    async def _arrivals(self, order_id: str):
        return [b.arrived.get(order_id) for b in self.boards]

    async def _counts(self):
        return [b.count for b in self.boards]

    async def _drop(self):
        for b in self.boards:
            connection = b.ws._response.connection if b.ws is not None else None
            if connection is not None and connection.transport is not None:
                connection.transport.abort()  # the network drops it: no close frame
            if b.task:
                b.task.cancel()
        await asyncio.gather(*(b.task for b in self.boards if b.task), return_exceptions=True)
        return len(self.boards)

    async def _reconnect(self):
        began = time.monotonic()
        results = await asyncio.gather(*(self._connect(b, reload=True) for b in self.boards),
                                       return_exceptions=True)
        return sum(r is True for r in results), time.monotonic() - began

    async def _equal(self, fresh: dict):
        return sum(all(b.seen.get(i) == v for i, v in fresh.items()) for b in self.boards)


def _hold(conn, base_url: str, headers: dict) -> None:
    asyncio.run(_Holder(conn, base_url, headers).main())


class Boards:
    """Boards spread over `processes` client processes (forked)."""

    def __init__(self, base_url: str, cookie_header: str, user_agent: str, processes: int = 4):
        context = multiprocessing.get_context("fork")
        headers = {"Cookie": cookie_header, "User-Agent": user_agent}
        self._pipes, self._procs = [], []
        for _ in range(processes):
            mine, theirs = context.Pipe()
            proc = context.Process(target=_hold, args=(theirs, base_url, headers), daemon=True)
            proc.start()
            self._pipes.append(mine)
            self._procs.append(proc)
        self.open_count = 0

    def _all(self, *command, timeout: float = 180):
        for pipe in self._pipes:
            pipe.send(command)
        return [self._answer(pipe, timeout) for pipe in self._pipes]

    @staticmethod
    def _answer(pipe, timeout: float):
        if not pipe.poll(timeout):
            raise RuntimeError("a board process did not answer in time")
        return pipe.recv()

    def open(self, n: int) -> int:
        """Open n more boards (spread over the processes); how many connected."""
        share = [n // len(self._pipes) + (i < n % len(self._pipes)) for i in range(len(self._pipes))]
        for pipe, k in zip(self._pipes, share):
            pipe.send(("open", k))
        opened = sum(self._answer(pipe, 300) for pipe in self._pipes)
        self.open_count += opened
        return opened

    def reset(self, track: bool = False) -> None:
        self._all("reset", track)

    def stamping(self) -> None:
        """Every board notes when each order's card arrives from now on."""
        self._all("stamping")

    def arrivals(self, order_id: str) -> list[float | None]:
        """When `order_id`'s card reached each board (time.monotonic(); None: not yet)."""
        return [t for part in self._all("arrivals", order_id) for t in part]

    def counts(self) -> list[int]:
        return [c for part in self._all("counts") for c in part]

    def wait_for(self, expected: int, timeout: float = 30, stall: float = 5) -> list[int]:
        """Counts once every board has `expected` events, or progress stalled, or timeout."""
        deadline, last, last_change = time.monotonic() + timeout, None, time.monotonic()
        while True:
            counts = self.counts()
            if all(c >= expected for c in counts) or time.monotonic() > deadline:
                return counts
            if counts != last:
                last, last_change = counts, time.monotonic()
            elif time.monotonic() - last_change > stall:
                return counts
            time.sleep(0.2)

    def drop(self) -> None:
        self._all("drop")

    def reconnect_send(self) -> None:
        for pipe in self._pipes:
            pipe.send(("reconnect",))

    def reconnect_wait(self, timeout: float = 300) -> tuple[int, float]:
        answers = [self._answer(pipe, timeout) for pipe in self._pipes]
        return sum(a[0] for a in answers), max(a[1] for a in answers)

    def equal_to(self, fresh: dict) -> int:
        return sum(self._all("equal", fresh))

    def close(self) -> None:
        try:
            self._all("close", timeout=30)
        except (OSError, EOFError, RuntimeError):  # a client process already gone: kill the rest
            pass
        finally:
            for proc in self._procs:
                proc.join(5)
                if proc.is_alive():
                    proc.kill()

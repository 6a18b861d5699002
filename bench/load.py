"""A bounded load generator: N sender threads, each with its own keep-alive connection,
working through a fixed list of jobs (a job is requests sent one after the other, e.g. an
order's confirmation then its ready). Every request's answer and latency is kept."""
from __future__ import annotations

import http.client
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import urlsplit


@dataclass
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    tag: object = None  # whatever the caller needs to recognise the answer


@dataclass
class Answer:
    request: Request
    status: int  # 0 when the connection failed
    body: bytes
    latency: float  # seconds
    answered_at: float  # time.monotonic() when the answer was read


@dataclass
class Result:
    answers: list[Answer]
    elapsed: float

    @property
    def statuses(self) -> Counter:
        return Counter(a.status for a in self.answers)

    @property
    def throughput(self) -> float:
        return len(self.answers) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        """The q-th percentile latency in milliseconds (nearest rank)."""
        return percentile([a.latency for a in self.answers], q) * 1000


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


class _Connection:
    def __init__(self, base_url: str, timeout: float):
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.conn: Optional[http.client.HTTPConnection] = None

    def send(self, request: Request) -> tuple[int, bytes]:
        for attempt in (1, 2):  # once more on a fresh connection if keep-alive was dropped
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(request.method, request.path, body=request.body, headers=request.headers)
                response = self.conn.getresponse()
                body = response.read()
                if response.will_close:
                    self.close()
                return response.status, body
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self.close()
                if attempt == 2 or not _may_retry(error):
                    return 0, repr(error).encode()
            except (OSError, http.client.HTTPException) as error:
                # refused, timed out, or cut mid-answer (IncompleteRead): the server is gone or
                # stuck, and this request got no answer
                self.close()
                return 0, repr(error).encode()
        return 0, b""

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _may_retry(error) -> bool:
    # A keep-alive connection the server closed while idle fails on first use, before the
    # request was read: safe to send again. Anything else is reported as it happened.
    return isinstance(error, (http.client.RemoteDisconnected, BrokenPipeError))


def run(base_url, jobs: list[list[Request]], concurrency: int, *, timeout: float = 30,
        deadline: float = 300) -> Result:
    """Send every job's requests with `concurrency` senders; stop early at `deadline` seconds.
    `base_url` may be a list: the senders are spread over those servers (no load balancer)."""
    urls = [base_url] if isinstance(base_url, str) else list(base_url)
    work: queue.SimpleQueue = queue.SimpleQueue()
    for job in jobs:
        work.put(job)
    answers: list[Answer] = []
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    stop_at = [0.0]

    def sender(url):
        conn = _Connection(url, timeout)
        mine = []
        start.wait()
        while time.monotonic() < stop_at[0]:
            try:
                job = work.get_nowait()
            except queue.Empty:
                break
            for request in job:
                began = time.monotonic()
                status, body = conn.send(request)
                now = time.monotonic()
                mine.append(Answer(request, status, body, now - began, now))
        conn.close()
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=sender, args=(urls[n % len(urls)],), daemon=True) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    stop_at[0] = began + deadline
    start.wait()
    for thread in threads:
        thread.join(deadline + timeout + 5)
    return Result(answers, time.monotonic() - began)

"""Real servers on 127.0.0.1 for benchmarks and process-level tests: gunicorn with the
production settings (gunicorn.conf.py), one process group each, so a test can SIGKILL it."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Optional

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def passline_env(database_url: str, *, redis_url: Optional[str], webhook_secret: str,
                 platform_key: str, **extra: str) -> dict:
    """The environment of a production-style Passline process (contract §4)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OVERDUE_", "PASSLINE_", "GUNICORN"))}
    env.update(
        # Not PASSLINE_ENV=production: its Secure cookies need the TLS that nginx adds, and
        # these clients speak plain HTTP to 127.0.0.1. One SECRET_KEY for all processes,
        # so a session made by one is valid at the others.
        SECRET_KEY="bench-and-test-secret-key",
        DATABASE_URL=database_url,
        ONETABLET_WEBHOOK_SECRET=webhook_secret,
        PLATFORM_API_KEY=platform_key,
        ONETABLET_API_KEY="unused-key",
        ONETABLET_API_URL="http://127.0.0.1:9/",  # nothing listens; the outbox worker is off
        PASSLINE_SCHEDULER="off",
        PASSLINE_OUTBOX_WORKER="off",
        PASSLINE_LOG_LEVEL="warning",
    )
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


class Server:
    """`gunicorn -c gunicorn.conf.py <target>` on a free port, until stop() or kill();
    `serve="flask"`: `flask --app wsgi run`, the embedded default, instead."""

    def __init__(self, env: dict, target: str = "wsgi:app", port: Optional[int] = None,
                 ready_path: str = "/healthz", serve: str = "gunicorn"):
        if serve not in ("gunicorn", "flask"):
            raise ValueError(f"serve: gunicorn or flask, not {serve!r}")
        self.env, self.target, self.ready_path, self.serve = env, target, ready_path, serve
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: Optional[subprocess.Popen] = None
        fd, self.log_path = tempfile.mkstemp(prefix="passline-server-", suffix=".log")
        os.close(fd)

    def start(self, timeout: float = 30) -> "Server":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self._command(),
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(self.url + self.ready_path, timeout=2).status_code == 200:
                    return self
            except requests.RequestException:  # not listening yet, or the worker still booting
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server not ready after {timeout}s:\n{self.log_tail()}")

    def _command(self) -> list[str]:
        if self.serve == "flask":
            return [os.path.join(os.path.dirname(sys.executable), "flask"), "--app", self.target.split(":")[0],
                    "run", "--host", "127.0.0.1", "--port", str(self.port)]
        return [sys.executable, "-m", "gunicorn", "-c", os.path.join(ROOT, "gunicorn.conf.py"),
                "-b", f"127.0.0.1:{self.port}", self.target]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def worker_pid(self) -> Optional[int]:
        """The gunicorn worker (the process that serves), a child of the master; `flask
        run` serves in its own process."""
        if self.process is None:
            return None
        pid = self.process.pid
        if self.serve == "flask":
            return pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                children = f.read().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def peak_rss_mb(self) -> Optional[float]:
        """The worker's peak resident memory so far (VmHWM), in MB."""
        pid = self.worker_pid()
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except (OSError, TypeError):
            pass
        return None

    def stop(self, timeout: float = 20) -> None:
        """Shut down (SIGTERM, then SIGKILL if it hangs) and remove the log."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        if os.path.exists(self.log_path):
            os.remove(self.log_path)

    def kill(self) -> None:
        """SIGKILL the master and its worker at once: a crash, not a shutdown."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)

    def log_tail(self, chars: int = 4000) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()[-chars:]

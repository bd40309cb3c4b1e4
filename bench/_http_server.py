"""The server side of bench/http.py: ``blindmark serve`` in a child process, its examiners'
API tokens, and the CPU its processes and their database backends spend."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """``blindmark serve`` in a child process, over ``url``."""

    def __init__(
        self, url: str, workdir: Path, *, workers: int, threads: int, examiner_pace: int = 0
    ) -> None:
        self.port = free_port()
        self.log = workdir / f"serve-{self.port}.log"
        blindmark = Path(sys.executable).with_name("blindmark")
        env = {**os.environ, "BLINDMARK_SECRET_KEY": "bench-" + os.urandom(8).hex()}
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    str(blindmark),
                    "--db",
                    url,
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                    # milliseconds (web/pacing.py); 0, the server's own speed, unless asked
                    "--examiner-pace",
                    str(examiner_pace),
                ],
                stdout=subprocess.DEVNULL,  # gunicorn's access log: written, not kept
                stderr=log,
                env=env,
                cwd=workdir,
                start_new_session=True,
            )
        self._wait_until_up(workers)

    def _wait_until_up(self, workers: int) -> None:
        import http.client

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"blindmark serve exited: {self.log.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/login")
                if conn.getresponse().status == 200 and len(self.pids()) > workers:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("blindmark serve did not answer within 60 s")

    def pids(self) -> list[int]:
        """The gunicorn arbiter and its workers."""
        found = [self.proc.pid]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as fh:
                        ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if ppid == self.proc.pid:
                    found.append(int(entry))
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def cpu_of(pids: list[int]) -> dict[int, float]:
    from _common import process_cpu_seconds

    return {pid: cpu for pid in pids if (cpu := process_cpu_seconds(pid)) is not None}


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def backend_pids(pg_url: str, database: str) -> list[int]:
    from _common import pg_connect

    with pg_connect(pg_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchall()
    return [int(r[0]) for r in rows]


def api_tokens(url: str, usernames: list[str]) -> list[str]:
    """One API token per examiner, made by the web layer's own function."""
    from marking.people.accounts import get_account
    from web import create_app
    from web.db import get_db
    from web.security import new_api_token

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    values = []
    with app.app_context():
        db = get_db()
        for username in usernames:
            _token, value = new_api_token(get_account(db, username), "bench/http.py")
            values.append(value)
        db.commit()
    app.extensions["blindmark.engine"].dispose()
    return values

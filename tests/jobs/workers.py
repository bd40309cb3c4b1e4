"""Real `blindmark worker` processes for the tests that kill one mid-job: each in its own
process group (killed whole, like a machine that dies), its output in a log file, and a
short jobs' lease so that a killed worker's job is queued again within seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

LEASE = 2.0  # seconds: a killed worker's job is queued again this soon after


class Workers:
    """Starts `blindmark worker` processes and stops whatever is left at the end."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.url, self.tmp = url, tmp
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        blindmark = Path(sys.executable).with_name("blindmark")
        with (self.tmp / f"worker-{len(self.started)}.log").open("wb") as log:
            proc = subprocess.Popen(
                [str(blindmark), "--db", self.url, "worker", "--workers", "1"],
                env={**os.environ, "BLINDMARK_JOBS_LEASE": str(LEASE)},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for proc in self.started:
            self.kill(proc)

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp.glob("worker-*.log")))

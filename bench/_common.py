"""Shared plumbing for blindmark's benchmarks: throwaway databases, child processes, RSS.

Every measurement runs in a child process of its own (``run_child``), so the peak RSS
a child reports (``ru_maxrss``) belongs to that measurement alone. This module imports
only the standard library and psycopg, so a baseline child that uses it does not pay
for SQLAlchemy in its memory figure.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
MIB = 1024 * 1024


def peak_rss_mib() -> float:
    """This process's peak resident set size so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    """This process's resident set size now, from /proc (0.0 where there is none)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
    except OSError:
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / MIB


def cpu_seconds() -> float:
    """User plus system CPU time this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time another local process has used (a PostgreSQL backend), None if unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    """The 1-minute load average: other work on the machine skews wall-clock figures."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def busy_ticks() -> int:
    """CPU ticks the whole machine has spent busy (not idle, not waiting on I/O)."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except OSError:
        return 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields[:8]) - idle


def busy_cores(seconds: float = 1.0) -> float:
    """How many cores the machine keeps busy, averaged over ``seconds``."""
    import time

    before = busy_ticks()
    time.sleep(seconds)
    return (busy_ticks() - before) / os.sysconf("SC_CLK_TCK") / seconds


def wait_until_idle(max_busy: float, timeout: float) -> tuple[float, float]:
    """Wait until the machine is nearly idle (other people's work skews wall-clock figures).

    Returns (seconds waited, busy cores at the start); gives up after ``timeout``.
    """
    import time

    start = time.monotonic()
    busy = busy_cores()
    while busy > max_busy and time.monotonic() - start < timeout:
        busy = busy_cores(2.0)
    return time.monotonic() - start, busy


def run_child(script: Path, spec: dict[str, Any]) -> dict[str, Any]:
    """Run ``script --child`` in a fresh interpreter, ``spec`` as JSON on its stdin.

    Returns the JSON object the child prints last. The child's stderr passes through
    (progress, profiles, tracebacks); a failing child raises with its exit status.
    """
    proc = subprocess.run(
        [sys.executable, str(script), "--child"],
        input=json.dumps(spec),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed with status {proc.returncode}")
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError("benchmark child printed no result")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# --- throwaway databases ----------------------------------------------------------------


def sqlite_connect(path: Path) -> sqlite3.Connection:
    """A bare sqlite3 connection with the pragmas ``marking.store.db.make_engine`` sets."""
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=60000")
    conn.execute("PRAGMA secure_delete=ON")
    return conn


def pg_connect(pg_url: str, schema: str | None = None, *, autocommit: bool = False) -> Any:
    """A bare psycopg connection, confined to ``schema`` through search_path if given."""
    import psycopg

    kwargs: dict[str, Any] = {"autocommit": autocommit}
    if schema is not None:
        kwargs["options"] = f"-csearch_path={schema}"
    return psycopg.connect(pg_url, **kwargs)


@dataclass
class Target:
    """One fresh database: a SQLite file in a temp dir, or a PostgreSQL schema."""

    kind: str  # "sqlite" or "postgres"
    url: str  # SQLAlchemy URL for blindmark
    path: str | None = None  # SQLite file
    pg_url: str | None = None  # plain libpq URL of the server's database
    schema: str | None = None  # PostgreSQL schema
    pragmas: tuple[str, ...] = ()  # extra SQLite pragmas ("cache_size=-65536"), for tuning

    @classmethod
    def fresh(
        cls, kind: str, workdir: Path, label: str, pg_url: str, pragmas: tuple[str, ...] = ()
    ) -> Target:
        if kind == "sqlite":
            path = workdir / f"{label}-{uuid.uuid4().hex[:8]}.db"
            return cls(kind, f"sqlite:///{path}", path=str(path), pragmas=tuple(pragmas))
        schema = f"bench_{label}_{uuid.uuid4().hex[:8]}".replace("-", "_")
        with pg_connect(pg_url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        base = "postgresql+psycopg://" + pg_url.split("://", 1)[1]
        sep = "&" if "?" in base else "?"
        url = f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
        return cls(kind, url, pg_url=pg_url, schema=schema)

    def connect(self) -> Any:
        """A bare driver connection to this database (no transaction open)."""
        if self.kind == "sqlite":
            assert self.path is not None
            conn = sqlite_connect(Path(self.path))
            for pragma in self.pragmas:
                conn.execute(f"PRAGMA {pragma}")
            return conn
        assert self.pg_url is not None
        return pg_connect(self.pg_url, self.schema)

    def checkpoint(self) -> None:
        """Flush the server's dirty buffers so one measurement's writes don't bill the next."""
        if self.kind == "postgres":
            assert self.pg_url is not None
            with pg_connect(self.pg_url, autocommit=True) as conn:
                conn.execute("CHECKPOINT")

    def drop(self) -> None:
        if self.kind == "sqlite":
            assert self.path is not None
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(self.path + suffix).unlink(missing_ok=True)
            return
        assert self.pg_url is not None
        with pg_connect(self.pg_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


# --- the machine --------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def source_state(root: Path, *paths: str) -> dict[str, Any]:
    """The commit measured and whether the measured files differ from it (work in progress)."""
    import hashlib

    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
        return proc.stdout.strip()

    state: dict[str, Any] = {"commit": git("rev-parse", "HEAD") or None}
    state["modified"] = git("status", "--short", "--", *paths).splitlines()
    state["sha256"] = {
        p: hashlib.sha256((root / p).read_bytes()).hexdigest()[:16]
        for p in paths
        if (root / p).is_file()
    }
    return state


def machine(pg_url: str | None) -> dict[str, Any]:
    """What the figures were measured on."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    try:
        import psycopg

        info["psycopg"] = f"{psycopg.__version__} ({psycopg.pq.__impl__})"
    except ImportError:  # pragma: no cover - psycopg is a blindmark dependency
        pass
    if pg_url:
        with pg_connect(pg_url, autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            info["postgresql"] = row[0] if row else None
            settings = {}
            for name in ("shared_buffers", "work_mem", "synchronous_commit", "fsync"):
                got = conn.execute(f"SHOW {name}").fetchone()
                settings[name] = got[0] if got else None
            info["postgresql_settings"] = settings
    return info


def write_record(
    out: Path,
    benchmark: str,
    *,
    pg_url: str | None,
    sources: tuple[str, ...],
    started: float,
    **fields: Any,
) -> dict[str, Any]:
    """Write a benchmark's results as JSON with what they were measured on: the machine,
    the date, the command, the commit and the state of ``sources`` (the code measured)."""
    import datetime as dt
    import time

    record = {
        "benchmark": benchmark,
        **fields,
        "machine": machine(pg_url),
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(["python", *sys.argv]),
        "source": source_state(Path(__file__).resolve().parent.parent, *sources),
        "wall_seconds": time.perf_counter() - started,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    return record

"""The examiner processes of bench/queue.py: blindmark's queue services, or the bare driver.

Both kinds of worker do the same work in the same transactions: claim a batch (one
transaction), then submit each mark (one transaction per mark, as the web layer commits
per request), until the clock runs out. The ``blindmark`` worker is here; the ``baseline``
worker, the same statements through sqlite3 or psycopg directly, is in
bench/_queue_baseline.py. Here too: how marks are drawn and the window they count in.

A worker counts the marks it commits inside the measurement window, whose bounds are
CLOCK_MONOTONIC instants (one clock for every process on Linux) set by the parent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import time
import traceback
from typing import Any

OUT_OF_TOLERANCE = 0.06  # share of marks deliberately beyond tolerance: third marks happen
LEASE = dt.timedelta(minutes=20)


def true_steps(response_id: int | str, steps: int) -> int:
    digest = hashlib.blake2b(str(response_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % (steps + 1)


def mark_steps(response_id: int | str, steps: int, tol: int, rng: random.Random) -> int:
    """A mark in steps: near the response's true mark, or now and then far beyond tolerance."""
    truth = true_steps(response_id, steps)
    half = tol // 2
    if rng.random() < OUT_OF_TOLERANCE:
        offset = tol + half + 1 + rng.randrange(2)
        value = truth + offset if truth + offset <= steps else truth - offset
    else:
        value = truth + rng.randint(-half, half)
    return min(max(value, 0), steps)


class Window:
    """Counts events whose time falls inside [start, end) of the shared monotonic clock."""

    def __init__(self, start: float, end: float) -> None:
        self.start, self.end = start, end
        self.inside = 0

    def tick(self, count: int = 1) -> None:
        now = time.monotonic()
        if self.start <= now < self.end:
            self.inside += count

    def over(self) -> bool:
        return time.monotonic() >= self.end


def run_worker(spec: dict[str, Any], ready: Any, go: Any, clock: Any, results: Any) -> None:
    """Entry point of one examiner process; reports a dict on ``results``."""
    report: dict[str, Any] = {
        "username": spec["username"],
        "marks": 0,
        "marks_in_window": 0,
        "claims": 0,
        "empty_claims": 0,
        "lease_lost": 0,
        "locked": 0,
        "checks": 0,  # seeds and 回评 marked (method "checks"), counted in "marks" too
        "errors": [],
    }
    profiler = None
    try:
        services = spec["method"] in ("blindmark", "checks")
        worker = (BlindmarkWorker if services else _baseline())(spec)
        server_pid = worker.server_pid()
        ready.put(spec["username"])
        go.wait()
        window = Window(clock[0], clock[1])
        # CPU seconds spent by this process and by its database server process: what a
        # mark costs, whatever else the machine is doing (wall-clock rates are not).
        cpu_before = (time.process_time(), _process_cpu(server_pid))
        if spec.get("profile"):
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        worker.loop(window, report, random.Random(spec["seed"]))
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(spec["profile"])
        report["marks_in_window"] = window.inside
        report["cpu_client_s"] = time.process_time() - cpu_before[0]
        report["cpu_server_s"] = _process_cpu(server_pid) - cpu_before[1]
        worker.close()
    except BaseException:
        report["errors"].append(traceback.format_exc())
    finally:
        results.put(report)


def _baseline() -> type:
    """The bare-driver worker, whose module imports this one's helpers."""
    from _queue_baseline import BaselineWorker

    return BaselineWorker


def _process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of a process on this machine (0 when there is none)."""
    if pid is None:
        return 0.0
    import os

    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def is_locked(exc: BaseException) -> bool:
    return "database is locked" in str(exc)


# --- blindmark's services --------------------------------------------------------------------


class BlindmarkWorker:
    def __init__(self, spec: dict[str, Any]) -> None:
        from sqlalchemy import select

        from marking.people.accounts import get_account
        from marking.quality.checks import submit_check
        from marking.queue.claims import claim
        from marking.queue.marks import submit_mark
        from marking.setup.sessions import get_session
        from marking.store.db import make_engine, session_factory
        from marking.store.models import Component, Question

        self.claim, self.submit_mark, self.submit_check = claim, submit_mark, submit_check
        self.spec = spec
        self.engine = make_engine(spec["url"])
        self.db = session_factory(self.engine)()
        with self.db.begin():
            self.exam = get_session(self.db, spec["code"])
            self.account = get_account(self.db, spec["username"])
            self.tolerance = {
                (key, number): tol
                for key, number, tol in self.db.execute(
                    select(Component.key, Question.number, Question.tolerance)
                    .join(Question, Question.component_id == Component.id)
                    .where(Component.session_id == self.exam.id)
                )
            }

    def server_pid(self) -> int | None:
        """The PostgreSQL backend of the pool's one connection (SQLite: this process)."""
        if self.engine.dialect.name != "postgresql":
            return None
        from sqlalchemy import text

        with self.db.begin():
            return int(self.db.execute(text("SELECT pg_backend_pid()")).scalar_one())

    def loop(self, window: Window, report: dict[str, Any], rng: random.Random) -> None:
        from sqlalchemy.exc import DBAPIError

        from marking.queue.leases import LeaseLost

        claim, submit_mark = self.claim, self.submit_mark
        db, exam, account, batch = self.db, self.exam, self.account, self.spec["batch"]
        while not window.over():
            try:
                with db.begin():
                    claimed = claim(db, exam, account, size=batch, lease=LEASE)
            except DBAPIError as exc:
                report["locked"] += is_locked(exc)
                report["errors"].append(f"claim: {exc}")
                continue
            report["claims"] += 1
            if not claimed:
                report["empty_claims"] += 1
                time.sleep(0.05)
                continue
            for item in claimed:
                tol = int(self.tolerance[(item.component, item.question)] / item.step)
                steps = mark_steps(item.response_id, int(item.max / item.step), tol, rng)
                try:
                    with db.begin():
                        if item.check_id is None:
                            submit_mark(
                                db,
                                exam,
                                account,
                                response_id=item.response_id,
                                value=steps * item.step,
                            )
                        else:  # a seed or 回评: marked as any response, through its service
                            self.submit_check(
                                db, exam, account, check_id=item.check_id, value=steps * item.step
                            )
                            report["checks"] += 1
                except LeaseLost:
                    report["lease_lost"] += 1
                    continue
                except DBAPIError as exc:
                    report["locked"] += is_locked(exc)
                    report["errors"].append(f"submit: {exc}")
                    continue
                report["marks"] += 1
                window.tick()
                if window.over():
                    return

    def close(self) -> None:
        self.db.close()
        self.engine.dispose()

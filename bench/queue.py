"""Benchmark: marks per second through the assembly-line queue, against the bare driver.

    python bench/queue.py [--quick] [--db sqlite|postgres|both] [--workers 1,4,8,16]
                          [--batches 1,10,50] [--seconds S] [--warmup S] [--candidates N]
                          [--out bench/results/queue-<date>.json] [--profile]

One session (N candidates x 2 components x 15 examiner-marked questions, every group
double-marked, 16 examiners on every group) is built once per database through the
services (bench/_session.py) and kept as a template: a SQLite file that is copied, or a
PostgreSQL database used as ``CREATE DATABASE ... TEMPLATE``. Every measurement starts
from a fresh copy of it.

A measurement starts W examiner processes (multiprocessing, spawn; each with its own
connection), lets them warm up, then counts the marks committed in a fixed window. Each
process claims a batch of B (one transaction) and submits each mark (one transaction per
mark, as the web layer commits per request); about 6 % of marks are beyond tolerance,
so third marks come up too.

* ``blindmark``: ``marking.queue.claims.claim`` and ``marking.queue.marks.submit_mark`` on a
  SQLAlchemy session;
* ``checks``: the same services with quality control on (DESIGN §13): every group with
  seeds at 1 in 20 and 回评 at 1 in 100 per examiner, and ``SEEDS_PER_GROUP`` responses
  of each group already final and made seeds (a session part-way through marking). Its
  rate counts every item marked, checks included (they are work the examiner does); the
  checks are reported apart too. ``blindmark`` runs with both rates 0, so the pair
  measures what checks cost a claim and a mark (target: on >= 0.9 of off);
* ``baseline``: the same statements (as those functions emit them, captured with
  SQLAlchemy's echo) by sqlite3 / psycopg directly, the ledger entry and its hash
  included, same transactions (bench/_queue_baseline.py).

After each measurement the database is checked: each response's held counter matches its
held leases and the held seeds and 回评 that displaced it (each keeps its slot), no
examiner marked a response twice or beyond its marks needed, every mark has its ledger
entry and the chains verify.
"""

from __future__ import annotations

import os
import sys

# This file has the name of the standard library's ``queue`` (which psycopg and
# multiprocessing import), and Python puts the running script's folder first on the path:
# any script run from bench/ would find this file instead.
if __name__ == "queue":
    # Imported in its place: hand the standard library's module over, and step aside.
    import importlib.util
    import sysconfig

    _spec = importlib.util.spec_from_file_location(
        "queue", os.path.join(sysconfig.get_paths()["stdlib"], "queue.py")
    )
    assert _spec is not None and _spec.loader is not None
    _stdlib = importlib.util.module_from_spec(_spec)
    sys.modules["queue"] = _stdlib
    _spec.loader.exec_module(_stdlib)
else:
    import _paths  # noqa: F401  (run as a script: bench/ behind the standard library)

import argparse
import datetime as dt
import json
import multiprocessing
import queue as queue_module
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_PG_URL,
    busy_ticks,
    load_average,
    machine,
    source_state,
    wait_until_idle,
)
from _queue_report import TARGET_CHECKS_RATIO, TARGET_PG_RATE, TARGET_RATIO, table, verdicts

HERE = Path(__file__).resolve()
RESULTS = HERE.parent / "results"
SEED = 2026
CODE = "BENCH-QUEUE"
QUESTIONS = 15
EXAMINERS = 16
SEEDS_PER_GROUP = 100
# The engine's queue as measured: recorded (commit, local changes, hashes) with the results.
QUEUE_SOURCES = (
    *(f"marking/queue/{name}.py" for name in ("claims", "marks", "leases", "statements")),
    "marking/quality/checks.py",
)


# --- fresh databases from a template ------------------------------------------------------------


class Template:
    """A database with the session built once; ``clone`` gives a fresh copy of it."""

    def __init__(self, kind: str, workdir: Path, pg_url: str) -> None:
        self.kind, self.workdir, self.pg_url = kind, workdir, pg_url
        self.name = f"bmq_tpl_{uuid.uuid4().hex[:8]}"
        if kind == "sqlite":
            self.path = workdir / f"{self.name}.db"
            self.url = f"sqlite:///{self.path}"
        else:
            self._admin(f'CREATE DATABASE "{self.name}"')
            self.url = self._urls(self.name)[0]
        self.clones: list[str] = []

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            conn.execute(statement)

    def _urls(self, database: str) -> tuple[str, str]:
        """(SQLAlchemy URL, libpq conninfo) of a database on the benchmark's server."""
        from psycopg.conninfo import make_conninfo
        from sqlalchemy.engine import make_url

        from marking.store.db import normalise_url

        url = make_url(normalise_url(self.pg_url)).set(database=database)
        return url.render_as_string(hide_password=False), make_conninfo(
            self.pg_url, dbname=database
        )

    def clone(self) -> dict[str, Any]:
        name = f"bmq_{uuid.uuid4().hex[:8]}"
        self.clones.append(name)
        if self.kind == "sqlite":
            path = self.workdir / f"{name}.db"
            shutil.copyfile(self.path, path)
            return {"kind": "sqlite", "url": f"sqlite:///{path}", "path": str(path), "name": name}
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        self._admin("CHECKPOINT")  # the copy's writes are not billed to the measurement
        url, dsn = self._urls(name)
        return {"kind": "postgres", "url": url, "dsn": dsn, "name": name}

    def drop_clone(self, target: dict[str, Any]) -> None:
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(target["path"] + suffix).unlink(missing_ok=True)
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{target["name"]}" WITH (FORCE)')
        self.clones.remove(target["name"])

    def drop(self) -> None:
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            return
        for name in list(self.clones):
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def build_template(kind: str, workdir: Path, args: argparse.Namespace) -> tuple[Template, Any]:
    from _session import build_session

    from marking.store.db import make_engine, scrub_wal

    template = Template(kind, workdir, args.pg_url)
    start = time.perf_counter()
    built = build_session(
        template.url,
        workdir / f"session-{kind}",
        code=CODE,
        candidates=args.candidates,
        questions_per_component=QUESTIONS,
        objective_share=0.0,
        examiners=EXAMINERS,
        seed=SEED,
        marks_required=2,
    )
    engine = make_engine(template.url)
    scrub_wal(engine)  # the template file alone holds everything: a plain copy clones it
    engine.dispose()
    print(
        f"  {kind}: template session with {built.subjective:,} examiner-marked responses "
        f"built through the services in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    return template, built


# --- one measurement ----------------------------------------------------------------------------


def measure(
    template: Template,
    built: Any,
    *,
    method: str,
    workers: int,
    batch: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    target = template.clone()
    try:
        from _queue_checks import quality_control

        quality_control(target, built.session_id, on=method == "checks", seeds=SEEDS_PER_GROUP)
        waited, busy_before = (
            wait_until_idle(args.max_busy, args.idle_timeout)
            if args.idle_timeout > 0
            else (0.0, None)
        )
        specs = [
            _worker_spec(template, target, built, method, workers, batch, i, args)
            for i in range(workers)
        ]
        reports, busy = _run_workers(specs, args)
        check = check_database(target, built.session_id)
    finally:
        template.drop_clone(target)
    errors = [e for r in reports for e in r["errors"]]
    marks = sum(r["marks_in_window"] for r in reports)
    result = {
        "database": template.kind,
        "method": method,
        "workers": workers,
        "batch": batch,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "marks_in_window": marks,
        "marks_per_s": marks / args.seconds,
        "marks_total": sum(r["marks"] for r in reports),
        "checks_total": sum(r.get("checks", 0) for r in reports),
        # CPU milliseconds per mark (whole run, warm-up included): worker, its server.
        **{
            f"cpu_{side}_ms_per_mark": 1000
            * sum(r.get(f"cpu_{side}_s", 0) for r in reports)
            / max(1, sum(r["marks"] for r in reports))
            for side in ("client", "server")
        },
        "claims": sum(r["claims"] for r in reports),
        "empty_claims": sum(r["empty_claims"] for r in reports),
        "lease_lost": sum(r["lease_lost"] for r in reports),
        "locked": sum(r["locked"] for r in reports),
        "errors": errors[:5],
        "error_count": len(errors),
        "reported": len(reports),
        "check": check,
        "machine_busy_cores": busy,
        "busy_cores_before": busy_before,
        "waited_for_idle_s": waited,
        "load_average_after": load_average(),
    }
    _print_result(result, errors)
    return result


def _worker_spec(
    template: Template,
    target: dict[str, Any],
    built: Any,
    method: str,
    workers: int,
    batch: int,
    i: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """What worker process ``i`` is told: the database, its examiner, batch and seed."""
    spec = {
        "method": method,
        "kind": template.kind,
        "url": target["url"],
        "path": target.get("path"),
        "dsn": target.get("dsn"),
        "code": CODE,
        "session_id": built.session_id,
        "username": built.examiners[i],
        "batch": batch,
        "seed": SEED + 100 * i + batch,
    }
    if args.profile and i == 0:
        RESULTS.mkdir(parents=True, exist_ok=True)
        spec["profile"] = str(
            RESULTS / f"queue-{template.kind}-{method}-w{workers}-b{batch}.pstats"
        )
    return spec


def _run_workers(
    specs: list[dict[str, Any]], args: argparse.Namespace
) -> tuple[list[dict[str, Any]], float]:
    """Start a process per spec, open the window once all are ready, and collect their
    reports; returns them with the cores the machine kept busy meanwhile."""
    from _queue_work import run_worker

    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Queue(), ctx.Queue()
    go = ctx.Event()
    clock = ctx.Array("d", 2)
    processes = []
    for spec in specs:
        process = ctx.Process(target=run_worker, args=(spec, ready, go, clock, results))
        process.start()
        processes.append(process)
    reports: list[dict[str, Any]] = []
    try:
        for _ in processes:
            ready.get(timeout=300)
        start = time.monotonic()
        clock[0], clock[1] = start + args.warmup, start + args.warmup + args.seconds
        go.set()
        time.sleep(args.warmup)
        ticks, wall = busy_ticks(), time.perf_counter()
        while len(reports) < len(specs):
            try:
                reports.append(results.get(timeout=args.warmup + args.seconds + 300))
            except queue_module.Empty:
                break
        busy = (busy_ticks() - ticks) / os.sysconf("SC_CLK_TCK") / (time.perf_counter() - wall)
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
                process.join()
    return reports, busy


def _print_result(result: dict[str, Any], errors: list[str]) -> None:
    """One line on stderr per measurement, and its first error if any."""
    problem = not result["check"]["ok"] or errors or result["reported"] != result["workers"]
    flag = "  (PROBLEM)" if problem else ""
    print(
        f"  {result['database']:<8} {result['method']:<9} workers {result['workers']:>2} "
        f"batch {result['batch']:>2}: "
        f"{result['marks_per_s']:8,.0f} marks/s, CPU ms/mark "
        f"{result['cpu_client_ms_per_mark']:.2f} client + {result['cpu_server_ms_per_mark']:.2f} "
        f"server (busy {result['machine_busy_cores']:.2f} cores){flag}",
        file=sys.stderr,
    )
    if errors:
        print("    first error: " + errors[0].strip().splitlines()[-1], file=sys.stderr)


def check_database(target: dict[str, Any], session_id: int) -> dict[str, Any]:
    """The queue's invariants on the database a measurement left behind."""
    from sqlalchemy import text

    from marking.audit.ledger import verify_chains
    from marking.store.db import make_engine, transaction
    from marking.store.models import ExamSession

    engine = make_engine(target["url"])
    problems: list[str] = []
    try:
        with transaction(engine) as db:
            counts = db.execute(
                text(
                    "SELECT "
                    " (SELECT count(*) FROM mark),"
                    " (SELECT count(*) FROM ledger_entry WHERE kind = 'mark'),"
                    " (SELECT count(*) FROM lease WHERE state = 'submitted'),"
                    " (SELECT count(*) FROM lease WHERE state = 'held'),"
                    " (SELECT count(*) FROM response WHERE held <>"
                    "   (SELECT count(*) FROM lease l WHERE l.response_id = response.id"
                    "     AND l.state = 'held')"
                    "   + (SELECT count(*) FROM check_mark c WHERE c.displaced_id = response.id"
                    "     AND c.state = 'held')),"
                    " (SELECT count(*) FROM response WHERE marks_done > marks_needed OR marks_done"
                    "   <> (SELECT count(*) FROM mark m WHERE m.response_id = response.id)),"
                    " (SELECT count(*) FROM response WHERE state = 'final' AND final IS NULL),"
                    " (SELECT count(*) FROM response WHERE state = 'final')"
                )
            ).one()
            marks, entries, submitted, held_leases, bad_held, bad_counts, bad_final, final = counts
            if not marks == entries == submitted:
                problems.append(f"{marks} marks, {entries} ledger entries, {submitted} submitted")
            if bad_held:
                problems.append(
                    f"{bad_held} responses whose held counter is not their held leases and "
                    f"checks ({held_leases} held leases in all)"
                )
            if bad_counts:
                problems.append(f"{bad_counts} responses with marks_done wrong")
            if bad_final:
                problems.append(f"{bad_final} final responses without a final")
            exam = db.get(ExamSession, session_id)
            assert exam is not None
            _entries, broken = verify_chains(db, exam)
            if broken is not None:
                problems.append(f"ledger: {broken}")
    finally:
        engine.dispose()
    return {"ok": not problems, "problems": problems, "marks": marks, "final": final}


# --- report -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args, workers, batches, methods = _arguments(argv)
    quick = args.quick
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    today = dt.date.today().isoformat()
    out = args.out or RESULTS / f"queue-{today}{'-quick' if quick else ''}.json"

    workdir = Path(tempfile.mkdtemp(prefix="blindmark-bench-queue-", dir=args.workdir))
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    try:
        for kind in kinds:
            template, built = build_template(kind, workdir, args)
            try:
                for w in workers:
                    for b in batches:
                        # Rounds alternate the methods' order (off, on; on, off; ...), so a
                        # machine that grows busier or quieter meanwhile weighs on both alike.
                        for r in range(args.rounds):
                            for method in methods if r % 2 == 0 else methods[::-1]:
                                result = measure(
                                    template, built, method=method, workers=w, batch=b, args=args
                                )
                                results.append({**result, "round": r})
            finally:
                template.drop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    report = {
        "benchmark": "queue",
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(["python", *sys.argv]),
        "machine": machine(args.pg_url if "postgres" in kinds else None),
        "source": source_state(HERE.parent.parent, *QUEUE_SOURCES, "marking/audit/ledger.py"),
        "session": {
            "candidates": args.candidates,
            "questions_per_component": QUESTIONS,
            "examiners": EXAMINERS,
            "marks_required": 2,
        },
        "window_seconds": args.seconds,
        "warmup_seconds": args.warmup,
        "wall_seconds": time.perf_counter() - started,
        "targets": {
            "postgres_8_workers_marks_per_s": TARGET_PG_RATE,
            "ratio": TARGET_RATIO,
            "checks_on_off_ratio": TARGET_CHECKS_RATIO,
        },
        "results": results,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print(
        f"queue: marks/s over {args.seconds:g} s windows after {args.warmup:g} s warm-up; "
        f"session of {args.candidates:,} candidates x 2 x {QUESTIONS} marked questions"
    )
    print(table(results))
    print()
    for verdict in verdicts(results):
        print(verdict)
    print(f"\nresults: {out} ({report['wall_seconds']:.0f} s)")
    return 0


def _arguments(
    argv: list[str] | None,
) -> tuple[argparse.Namespace, list[int], list[int], list[str]]:
    """The options, their --quick defaults filled in; and the workers, batches and methods."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 and 8 workers, batch 10, short")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--workers", help="comma-separated worker counts (1,4,8,16)")
    parser.add_argument("--batches", help="comma-separated claim batch sizes (1,10,50)")
    parser.add_argument("--methods", default="blindmark,checks,baseline")
    parser.add_argument("--seconds", type=float, help="measurement window (10; quick 3)")
    parser.add_argument("--warmup", type=float, help="seconds before the window (2; quick 1)")
    parser.add_argument(
        "--candidates", type=int, help="session size (2000, ~58,000 responses; quick 600)"
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--workdir", type=Path, help="SQLite files and batch (system temp)")
    parser.add_argument("--profile", action="store_true", help="cProfile the first worker")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each method this many times, alternating their order; medians reported",
    )
    parser.add_argument("--max-busy", type=float, default=0.5)
    parser.add_argument(
        "--idle-timeout", type=float, help="longest wait for an idle machine (10; quick 0)"
    )
    args = parser.parse_args(argv)

    quick = args.quick
    workers = [int(w) for w in (args.workers or ("1,8" if quick else "1,4,8,16")).split(",")]
    batches = [int(b) for b in (args.batches or ("10" if quick else "1,10,50")).split(",")]
    methods = args.methods.split(",")
    args.seconds = args.seconds or (3.0 if quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if quick else 2.0)
    args.candidates = args.candidates or (600 if quick else 2000)
    args.idle_timeout = args.idle_timeout if args.idle_timeout is not None else (0 if quick else 10)
    if max(workers) > EXAMINERS:
        parser.error(f"at most {EXAMINERS} workers (one examiner each)")
    return args, workers, batches, methods


if __name__ == "__main__":
    sys.exit(main())

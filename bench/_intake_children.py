"""The intake benchmark's measurements, one per child process: blindmark's intake and the
bare driver's baseline (bench/intake.py starts them and reports)."""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import (
    Target,
    cpu_seconds,
    current_rss_mib,
    peak_rss_mib,
    process_cpu_seconds,
)

CHUNK = 20_000  # rows per executemany call, the same as marking.intake.storing.STAGE_CHUNK
ACTOR = "bench"
# The columns intake_batch writes into response, all of them, so both methods store the
# same rows: objective responses final at once (scored from the key), the others open
# with their group's marks_required as marks needed.
COLUMNS = (
    "script_id, question_id, text, image_sha256, key_score, "
    "group_id, state, marks_needed, marks_done, held, final, final_rule"
)
# Statements of intake_batch timed as phases of their own, by their first three words.
STATEMENT_PHASES = (
    ("INSERT INTO RESPONSE", "INSERT..SELECT into response"),
    ("INSERT INTO SCRIPT", "insert scripts"),
    ("SELECT SCRIPT.ID, SCRIPT.CODE", "read script ids back"),
)


# --- blindmark ------------------------------------------------------------------------------


def child_blindmark(spec: dict[str, Any]) -> dict[str, Any]:
    """``intake_batch`` of the batch folder in one transaction, timed, with its phases."""
    from marking.intake.batch import intake_batch
    from marking.setup.sessions import get_session
    from marking.store import db as db_module
    from marking.store.db import transaction

    target = Target(**spec["target"])
    engine = _engine(target)
    backend = None
    with engine.connect() as conn:
        # The pool's connection (and SQLite's pragmas) are set up outside the clock.
        if target.kind == "postgres":
            backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()

    clock = _Clock(backend)
    _time_phases(clock, engine)
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
    rss_before = current_rss_mib()
    first = clock.now()
    if profiler is not None:
        profiler.enable()
    with transaction(engine) as db:
        if backend is not None:
            used = db.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
            assert used == backend, "the intake ran on another connection than the one watched"
        summary = intake_batch(
            db, get_session(db, spec["code"]), Path(spec["folder"]), actor=ACTOR, name="bench"
        )
        returned = clock.now()
    last = clock.now()
    if profiler is not None:
        profiler.disable()
        _report_profile(profiler, spec["profile"])
    peak = peak_rss_mib()
    # The CLI folds SQLite's WAL into the database after intake (marking.store.db.scrub_wal,
    # where present); timed apart, not counted in the intake's seconds.
    scrub = getattr(db_module, "scrub_wal", None)
    scrub_seconds = None
    if scrub is not None:
        t = time.perf_counter()
        scrub(engine)
        scrub_seconds = time.perf_counter() - t
    engine.dispose()
    clock.add("commit", returned, last)
    clock.rest("rest: read, validate, score, seal, ledger", first, returned)
    seconds, cpu, server = (b - a for a, b in zip(first, last, strict=True))
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "server_cpu_seconds": server if backend is not None or target.kind == "sqlite" else None,
        "responses": summary.responses,
        "scripts": summary.scripts,
        "objective_scored": summary.objective_scored,
        "rss_before_mib": rss_before,
        "peak_rss_mib": peak,
        "phases": clock.phases(),
        "scrub_wal_seconds": scrub_seconds,
    }


def _engine(target: Target) -> Any:
    """blindmark's engine for the target, with the extra SQLite pragmas asked for."""
    from sqlalchemy import event

    from marking.store.db import make_engine

    engine = make_engine(target.url)
    if target.pragmas:

        @event.listens_for(engine, "connect")
        def _extra_pragmas(dbapi_conn: Any, _record: Any) -> None:
            for pragma in target.pragmas:
                dbapi_conn.execute(f"PRAGMA {pragma}")

    return engine


def _time_phases(clock: _Clock, engine: Any) -> None:
    """Coarse phases, from wrappers called a few hundred times (not per row)."""
    from sqlalchemy import event

    from marking.intake import batch as batch_module
    from marking.intake import storing

    stage_write = storing._Stage.write
    digest = batch_module.batch_digest

    def timed_write(self: Any, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
        start = clock.now()
        try:
            stage_write(self, table, columns, rows)
        finally:
            clock.add(f"stage write ({table})", start)

    def timed_digest(*paths: Path) -> str:
        start = clock.now()
        try:
            return digest(*paths)
        finally:
            clock.add("batch digest", start)

    storing._Stage.write = timed_write  # type: ignore[method-assign]
    batch_module.batch_digest = timed_digest  # type: ignore[assignment]

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        conn.info["bench_start"] = clock.now()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        head = " ".join(statement[:80].split()[:3]).upper()
        for prefix, name in STATEMENT_PHASES:
            if head.startswith(prefix):
                clock.add(name, conn.info["bench_start"])
                break


class _Clock:
    """Wall time, this process's CPU and the PostgreSQL backend's CPU, summed per phase."""

    def __init__(self, backend: int | None) -> None:
        self.backend = backend
        self.sums: dict[str, list[float]] = {}

    def now(self) -> tuple[float, float, float]:
        server = process_cpu_seconds(self.backend) if self.backend else None
        return time.perf_counter(), cpu_seconds(), server or 0.0

    def add(
        self,
        name: str,
        start: tuple[float, float, float],
        end: tuple[float, float, float] | None = None,
    ) -> None:
        end = end or self.now()
        sums = self.sums.setdefault(name, [0.0, 0.0, 0.0])
        for i in range(3):
            sums[i] += end[i] - start[i]

    def rest(
        self, name: str, start: tuple[float, float, float], end: tuple[float, float, float]
    ) -> None:
        """What ``start`` to ``end`` took beyond the phases already counted in it."""
        counted = [sum(v[i] for k, v in self.sums.items() if k != "commit") for i in range(3)]
        self.sums[name] = [end[i] - start[i] - counted[i] for i in range(3)]

    def phases(self) -> dict[str, dict[str, float]]:
        return {
            name: {"seconds": w, "cpu_seconds": c, "server_cpu_seconds": s}
            for name, (w, c, s) in self.sums.items()
        }


def _server_cpu(backend: int | None, start: float | None) -> float | None:
    """CPU the PostgreSQL backend spent since ``start`` (0 for SQLite, which runs in-process)."""
    if backend is None:
        return 0.0
    end = process_cpu_seconds(backend)
    return None if end is None or start is None else end - start


def _report_profile(profiler: Any, path: str) -> None:
    import io
    import pstats

    profiler.dump_stats(path)
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(25)
        print(f"--- profile of the blindmark intake, by {order} ({path})", file=sys.stderr)
        print(out.getvalue(), file=sys.stderr)


# --- baseline -------------------------------------------------------------------------------

# (component, number) -> question id, scorer, memo, and the row's tail after key_score.
_Questions = dict[tuple[str, str], tuple[int, Any, dict[str, int] | None, tuple[Any, ...]]]


def child_baseline(spec: dict[str, Any]) -> dict[str, Any]:
    """The same rows from the same CSV into ``response`` by the bare driver, timed."""
    target = Target(**spec["target"])
    folder = Path(spec["folder"])
    conn = target.connect()
    # Lookups, built outside the clock.
    script_of, questions = _baseline_lookups(conn, folder, int(spec["session_id"]), spec["toml"])

    rss_before = current_rss_mib()
    backend = conn.info.backend_pid if target.kind == "postgres" else None
    server_start = process_cpu_seconds(backend) if backend else None
    cpu_start = cpu_seconds()
    start = time.perf_counter()
    with (folder / "responses.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = _baseline_rows(reader, script_of, questions)
        if target.kind == "sqlite":
            count, driver, driver_cpu = _baseline_sqlite(conn, rows)
        else:
            count = _baseline_copy(conn, rows)
    end = time.perf_counter()
    cpu = cpu_seconds() - cpu_start
    server = _server_cpu(backend, server_start)
    conn.close()
    result: dict[str, Any] = {
        "seconds": end - start,
        "cpu_seconds": cpu,
        "server_cpu_seconds": server,
        "responses": count,
        "rss_before_mib": rss_before,
        "peak_rss_mib": peak_rss_mib(),
    }
    if target.kind == "sqlite":
        result["phases"] = {
            "executemany + commit": {"seconds": driver, "cpu_seconds": driver_cpu},
            "csv read, lookups, rows": {
                "seconds": end - start - driver,
                "cpu_seconds": cpu - driver_cpu,
            },
        }
    return result


def _baseline_lookups(
    conn: Any, folder: Path, sid: int, toml: str
) -> tuple[dict[tuple[str, str], int], _Questions]:
    """Script ids by (exam number, component), and each question's id, scorer and tail."""
    # Imports stay bare: csv, the driver, and blindmark's scorers (stdlib-only modules).
    from marking.domain.definition import parse_session_definition
    from marking.domain.objective import make_scorer

    components = conn.execute(
        f"SELECT id, key FROM component WHERE session_id = {sid} ORDER BY position"
    ).fetchall()
    script_ids = [
        r[0] for r in conn.execute(f"SELECT id FROM script WHERE session_id = {sid} ORDER BY id")
    ]
    with (folder / "candidates.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        pairs = [(row[0], key) for row in reader for _id, key in components]
    # Scripts were created in exactly this (candidate, component) order (see
    # bench/intake.py, _prepare).
    script_of = dict(zip(pairs, script_ids, strict=True))
    del pairs, script_ids
    definition = parse_session_definition(toml)
    defs = {(c.key, q.number): q for c in definition.components for q in c.questions}
    questions: _Questions = {}
    for qid, comp_key, number, gid, needed in conn.execute(
        "SELECT q.id, c.key, q.number, q.group_id, coalesce(g.marks_required, 0) "
        "FROM question q JOIN component c ON c.id = q.component_id "
        f"LEFT JOIN marking_group g ON g.id = q.group_id WHERE c.session_id = {sid}"
    ):
        qdef = defs[(comp_key, number)]
        scorer = make_scorer(qdef) if qdef.is_objective else None
        state, rule = ("final", "key") if gid is None else ("open", None)
        tail = (gid, state, needed if gid is not None else 0, 0, 0)
        questions[(comp_key, number)] = (qid, scorer, {} if scorer else None, (*tail, rule))
    return script_of, questions


def _baseline_rows(
    reader: Any, script_of: dict[tuple[str, str], int], questions: _Questions
) -> Iterator[tuple[Any, ...]]:
    """The 12 stored columns of each CSV row, scored from the key as intake scores."""
    for exam_no, comp, number, text, image in reader:
        qid, scorer, memo, (gid, state, needed, done, held, rule) = questions[(comp, number)]
        score = None
        if memo is not None:
            score = memo.get(text)
            if score is None:
                score = memo[text] = int(scorer(text) * 1000)
        yield (
            *(script_of[(exam_no, comp)], qid, text, image or None, score, gid, state),
            *(needed, done, held, score, rule),
        )


def _baseline_sqlite(conn: Any, rows: Iterator[tuple[Any, ...]]) -> tuple[int, float, float]:
    """sqlite3 ``executemany`` in chunks, one transaction: rows, driver seconds and CPU."""
    driver = driver_cpu = 0.0
    count = 0
    sql = f"INSERT INTO response ({COLUMNS}) VALUES ({', '.join('?' * 12)})"
    conn.execute("BEGIN IMMEDIATE")
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            t, c = time.perf_counter(), cpu_seconds()
            conn.executemany(sql, chunk)
            driver += time.perf_counter() - t
            driver_cpu += cpu_seconds() - c
            count += len(chunk)
            chunk.clear()
    t, c = time.perf_counter(), cpu_seconds()
    conn.executemany(sql, chunk)
    count += len(chunk)
    conn.execute("COMMIT")
    driver += time.perf_counter() - t
    driver_cpu += cpu_seconds() - c
    return count, driver, driver_cpu


def _baseline_copy(conn: Any, rows: Iterator[tuple[Any, ...]]) -> int:
    """psycopg ``COPY ... FROM STDIN`` with ``write_row``, committed: rows."""
    count = 0
    with conn.cursor() as cur, cur.copy(f"COPY response ({COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    conn.commit()
    return count

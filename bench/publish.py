"""Benchmark: publication of a large, fully marked session, and its numpy reconciliation.

    python bench/publish.py [--candidates N] [--quick] [--db sqlite|postgres|both]
                            [--examiners E] [--profile] [--out bench/results/publish-<date>.json]

The session (N candidates x 2 components x 30 questions, half of them objective, every
group double-marked; default N = 100,000: ~5.8 million responses of which ~2.9 million
examiner-marked, ~6 million marks) is set up in two steps:

1. through the services (bench/_session.py): accounts, session, keys in 2-of-3 shares,
   declared conflicts, one intake batch, assignment, scheme approval, violations;
2. marked in bulk by the bare driver (COPY on PostgreSQL, executemany on SQLite), as the
   queue would have left it: for every examiner-marked response two marks from distinct
   examiners (never an excluded one), a third where they disagree beyond tolerance, the
   lead's arbitration where the third does not settle it; a submitted lease per mark
   (and some expired ones), a ledger entry per mark and per arbitration chained per lane
   with ``marking.audit.ledger.entry_hash``, and each response's counters, final and rule as
   ``marking.domain.rules.reconcile`` decides them. PostgreSQL then gets VACUUM ANALYZE, as
   autovacuum would have done in the days of marking. At small sizes ``marking.audit.verify``
   checks the result (chains, marks against ledger, finals) before and after publication.

Then, each in a child process of its own (peak RSS is that measurement's):

* ``check``: ``marking.publication.publish.check_reconciliation`` as a whole (queries included), and
  ``marking.domain.rules.reconcile_many`` alone on the very arrays it built (best of 3);
* ``publish``: rebuilding the key from 2 shares, ``marking.publication.publish.publish`` and the
  commit, with the time of its main steps (``--profile``: under cProfile).
"""

from __future__ import annotations

# isort: off
import _paths  # noqa: F401  (first: bench/'s script names shadow stdlib and project modules)

# isort: on
import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_PG_URL,
    Target,
    cpu_seconds,
    current_rss_mib,
    machine,
    peak_rss_mib,
    run_child,
    source_state,
)

HERE = Path(__file__).resolve()
RESULTS = HERE.parent / "results"
SEED = 2026
CODE = "BENCH-PUBLISH"
QUESTIONS = 30
QUICK_CANDIDATES = 2000
VERIFY_UP_TO = 5_000  # candidates; above, marking.audit.verify would take minutes
OUT_OF_TOLERANCE = 0.06  # share of first and second marks far off: third marks
THIRD_FAR = 0.15  # share of third marks far off too: arbitrations
EXPIRED_LEASES = 0.01  # share of marks preceded by an expired lease of the same examiner
TARGET_PUBLISH_S = 60.0
TARGET_NUMPY_S = 2.0
BASE_TIME = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)
CHUNK = 100_000


# --- the session, marked in bulk ------------------------------------------------------------


def _lane_hashes(job: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Hash one lane's new entries in chain order; returns (hashes, payload JSON texts)."""
    from marking.audit.ledger import entry_hash

    prev = job["prev"]
    hashes: list[str] = []
    payloads: list[str] = []
    key = job["key"]
    kinds = job["mark_kinds"]
    for i, (entry_id, rid, value, micros) in enumerate(
        zip(job["ids"], job["rids"], job["values"], job["micros"], strict=True)
    ):
        payload: dict[str, Any] = {key: entry_id, "response": rid, "value": value}
        if kinds is not None:
            payload["kind"] = kinds[i]
        prev = entry_hash(
            session_id=job["session_id"],
            lane=job["lane"],
            seq=job["seq"] + i,
            kind=job["kind"],
            actor=job["lane"],
            payload=payload,
            created_at=BASE_TIME + dt.timedelta(microseconds=micros),
            prev_hash=prev,
        )
        hashes.append(prev)
        payloads.append(json.dumps(payload))
    return hashes, payloads


def _stamps(micros: Any, kind: str) -> list[str]:
    """Timestamps as each database stores them (SQLAlchemy's SQLite format / timestamptz)."""
    import numpy as np

    base = np.datetime64(BASE_TIME.replace(tzinfo=None), "us")
    text = np.datetime_as_string(base + np.asarray(micros).astype("timedelta64[us]"), unit="us")
    out = [t.replace("T", " ") for t in text.tolist()]
    return out if kind == "sqlite" else [t + "+00" for t in out]


class Loader:
    """Rows into a table by the bare driver: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, target: Target) -> None:
        self.kind = target.kind
        self.conn = target.connect()
        if self.kind == "sqlite":
            self.conn.execute("BEGIN IMMEDIATE")

    def rows(self, table: str, columns: tuple[str, ...], rows: Any) -> int:
        count = 0
        if self.kind == "sqlite":
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            chunk: list[tuple[Any, ...]] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) >= CHUNK:
                    self.conn.executemany(sql, chunk)
                    count += len(chunk)
                    chunk.clear()
            self.conn.executemany(sql, chunk)
            return count + len(chunk)
        with (
            self.conn.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        if self.kind == "sqlite":
            return self.conn.execute(sql.replace("%s", "?"), params)
        return self.conn.execute(sql, params)

    def commit(self) -> None:
        if self.kind == "sqlite":
            self.conn.execute("COMMIT")
            # Fold the gigabytes of write-ahead log into the file, as a quiet night would.
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            self.conn.commit()
        self.conn.close()


def mark_in_bulk(target: Target, built: Any, *, seed: int, echo: Any) -> dict[str, Any]:
    """Give every examiner-marked response the marks, leases, ledger entries and final the
    queue would have; see the module's docstring."""
    import multiprocessing

    import numpy as np
    from _session import LEAD

    from marking.audit.ledger import ENTRY_COLUMNS, GENESIS
    from marking.domain.rules import Final, NeedsArbitration, NeedsThird, reconcile

    start = time.perf_counter()
    stats: dict[str, Any] = {}
    load = Loader(target)
    sid = built.session_id
    rows = load.execute(
        "SELECT r.id, r.script_id, q.max, q.step, q.tolerance FROM response r "
        "JOIN question q ON q.id = r.question_id JOIN script s ON s.id = r.script_id "
        "WHERE s.session_id = %s AND r.group_id IS NOT NULL ORDER BY r.id",
        (sid,),
    ).fetchall()
    data = np.array(rows, dtype=np.int64).reshape(-1, 5)
    del rows
    rid, script, top, step, tol = (np.ascontiguousarray(data[:, i]) for i in range(5))
    del data
    n = len(rid)
    accounts = dict(
        load.execute(
            "SELECT username, id FROM account WHERE username IN ("
            + ", ".join(["%s"] * (len(built.examiners) + 1))
            + ")",
            (*built.examiners, LEAD),
        ).fetchall()
    )
    examiner_ids = np.array([accounts[u] for u in built.examiners], dtype=np.int64)
    lanes = [*built.examiners, LEAD]
    excluded = set(load.execute("SELECT script_id, examiner_id FROM exclusion").fetchall())
    echo(f"    loaded {n:,} examiner-marked responses ({time.perf_counter() - start:.1f} s)")

    rng = np.random.default_rng(seed)
    e = len(examiner_ids)
    # Three distinct examiners per response: a, b, then c among the other e - 2.
    who = np.empty((n, 3), dtype=np.int64)
    who[:, 0] = rng.integers(0, e, n)
    who[:, 1] = (who[:, 0] + 1 + rng.integers(0, e - 1, n)) % e
    c = rng.integers(0, e - 2, n)
    low, high = np.minimum(who[:, 0], who[:, 1]), np.maximum(who[:, 0], who[:, 1])
    c += c >= low
    c += c >= high
    who[:, 2] = c
    if excluded:
        bad_scripts = {s for s, _ in excluded}
        for i in np.flatnonzero(np.isin(script, list(bad_scripts))).tolist():
            while any((int(script[i]), int(examiner_ids[w])) in excluded for w in who[i]):
                who[i] = rng.choice(e, 3, replace=False)
    steps = top // step
    tol_steps = tol // step
    half = tol_steps // 2
    truth = rng.binomial(steps, 0.65)

    def marks(far_share: float) -> Any:
        value = truth + rng.integers(-half, half + 1)
        far = rng.random(n) < far_share
        offset = tol_steps + half + 1 + rng.integers(0, 2, n)
        value = np.where(
            far, np.where(truth + offset <= steps, truth + offset, truth - offset), value
        )
        return np.clip(value, 0, steps) * step

    values = np.stack([marks(OUT_OF_TOLERANCE), marks(OUT_OF_TOLERANCE), marks(THIRD_FAR)], axis=1)

    # What the queue decides, mark by mark, with the scalar rule it uses.
    count = np.full(n, 2, dtype=np.int64)
    final = np.zeros(n, dtype=np.int64)
    rule: list[str] = [""] * n
    arbitrated: list[int] = []
    for i, (v, t, s) in enumerate(zip(values.tolist(), tol.tolist(), step.tolist(), strict=True)):
        outcome = reconcile(v[:2], tolerance=t, step=s, required=2)
        if isinstance(outcome, NeedsThird):
            count[i] = 3
            outcome = reconcile(v, tolerance=t, step=s, required=2)
        if isinstance(outcome, Final):
            final[i], rule[i] = outcome.value, outcome.rule
        elif isinstance(outcome, NeedsArbitration):
            final[i], rule[i] = int(truth[i] * step[i]), "arbitration"
            arbitrated.append(i)
        else:  # pragma: no cover - two or three marks always decide
            raise AssertionError(outcome)
    third = np.flatnonzero(count == 3)
    stats.update(responses=n, third_marks=len(third), arbitrations=len(arbitrated), examiners=e)
    echo(
        f"    decided {n:,} responses: {len(third):,} third marks, {len(arbitrated):,} "
        f"arbitrations ({time.perf_counter() - start:.1f} s)"
    )

    # The timeline: first and second marks of every response (in a random order of
    # responses), then the third marks, then the lead's arbitrations; ids follow time.
    order = rng.permutation(n)
    m_resp = np.concatenate([np.repeat(order, 2), rng.permutation(third)])
    m_slot = np.concatenate([np.tile([0, 1], n), np.full(len(third), 2)])
    total = len(m_resp)
    m_id = np.arange(1, total + 1, dtype=np.int64)
    m_micros = m_id * 20_000  # a mark every 20 ms, over the days of marking
    m_examiner = examiner_ids[who[m_resp, m_slot]]
    m_value = values[m_resp, m_slot]
    m_kind = np.where(m_slot == 2, "third", "double")
    a_resp = np.array(arbitrated, dtype=np.int64)
    a_id = np.arange(1, len(a_resp) + 1, dtype=np.int64)
    a_micros = (total + a_id) * 20_000
    stats["marks"] = total

    # Ledger chains: per lane, the entries in time order, after the lane's current tip.
    jobs = []
    lane_of_examiner = {int(x): u for x, u in zip(examiner_ids, built.examiners, strict=True)}
    by_lane = np.argsort(m_examiner, kind="stable")
    bounds = np.flatnonzero(np.diff(m_examiner[by_lane])) + 1
    for part in np.split(by_lane, bounds):
        if not len(part):
            continue
        lane = lane_of_examiner[int(m_examiner[part[0]])]
        jobs.append(
            {
                "lane": lane,
                "kind": "mark",
                "key": "mark",
                "ids": m_id[part].tolist(),
                "rids": rid[m_resp[part]].tolist(),
                "values": [_text(v) for v in m_value[part].tolist()],
                "mark_kinds": m_kind[part].tolist(),
                "micros": m_micros[part].tolist(),
                "part": part,
            }
        )
    if len(a_resp):
        jobs.append(
            {
                "lane": LEAD,
                "kind": "arbitration",
                "key": "arbitration",
                "ids": a_id.tolist(),
                "rids": rid[a_resp].tolist(),
                "values": [_text(v) for v in final[a_resp].tolist()],
                "mark_kinds": None,
                "micros": a_micros.tolist(),
                "part": None,
            }
        )
    for job in jobs:
        tip = load.execute(
            "SELECT seq, hash FROM ledger_lane WHERE session_id = %s AND lane = %s",
            (sid, job["lane"]),
        ).fetchone()
        job["seq"], job["prev"] = (tip[0] + 1, tip[1]) if tip else (1, GENESIS)
        job["session_id"] = sid
    assert {j["lane"] for j in jobs} <= set(lanes)
    with multiprocessing.get_context("fork").Pool() as pool:
        hashed = pool.map(_lane_hashes, [{k: v for k, v in j.items() if k != "part"} for j in jobs])
    echo(
        f"    hashed {sum(len(j['ids']) for j in jobs):,} ledger entries in {len(jobs)} lanes "
        f"({time.perf_counter() - start:.1f} s)"
    )

    kind = target.kind
    expired = np.flatnonzero(rng.random(total) < EXPIRED_LEASES)
    m_rid = rid[m_resp]

    def chunked(columns: list[Any], stamps: list[tuple[Any, int]], fixed: tuple[Any, ...]) -> Any:
        """Rows of ``columns`` (arrays) then ``stamps`` ((micros array, shift)), with the
        ``fixed`` values spliced in after the third column; built a chunk at a time."""
        for lo in range(0, len(columns[0]), CHUNK):
            parts = [c[lo : lo + CHUNK].tolist() for c in columns]
            times = [_stamps(m[lo : lo + CHUNK] + shift, kind) for m, shift in stamps]
            for row in zip(*parts, *times, strict=True):
                yield (*row[:3], *fixed, *row[3:])

    lease_columns = ("id", "response_id", "examiner_id", "state", "created_at", "expires_at")
    count_leases = load.rows(
        "lease",
        lease_columns,
        chunked(
            [m_id, m_rid, m_examiner],
            [(m_micros, -60_000_000), (m_micros, 1_140_000_000)],
            ("submitted",),
        ),
    )
    count_leases += load.rows(
        "lease",
        lease_columns,
        chunked(
            [total + 1 + np.arange(len(expired)), m_rid[expired], m_examiner[expired]],
            [(m_micros[expired], -1_800_000_000), (m_micros[expired], -600_000_000)],
            ("expired",),
        ),
    )
    load.rows(
        "mark",
        ("id", "response_id", "examiner_id", "kind", "value", "lease_id", "created_at"),
        chunked([m_id, m_rid, m_examiner, m_kind, m_value, m_id], [(m_micros, 0)], ()),
    )
    echo(f"    leases and marks stored ({time.perf_counter() - start:.1f} s)")
    lead_id = accounts[LEAD]
    a_stamp = _stamps(a_micros, kind)
    load.rows(
        "arbitration",
        ("id", "response_id", "lead_id", "value", "reason", "created_at"),
        (
            (int(a_id[j]), int(rid[i]), lead_id, int(final[i]), "bench", a_stamp[j])
            for j, i in enumerate(a_resp.tolist())
        ),
    )
    entries = 0
    for job, (hashes, payloads) in zip(jobs, hashed, strict=True):
        stamps = _stamps(job["micros"], kind)
        prevs = [job["prev"], *hashes[:-1]]
        entries += load.rows(
            "ledger_entry",
            ENTRY_COLUMNS,
            (
                (
                    sid,
                    job["lane"],
                    job["seq"] + i,
                    job["kind"],
                    job["lane"],
                    payloads[i],
                    stamps[i],
                    prevs[i],
                    hashes[i],
                )
                for i in range(len(hashes))
            ),
        )
        if hashes:  # the lane's tip row, as ledger.append leaves it
            load.execute(
                "INSERT INTO ledger_lane (session_id, lane, seq, hash) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (session_id, lane) DO UPDATE SET seq = excluded.seq, "
                "hash = excluded.hash",
                (sid, job["lane"], job["seq"] + len(hashes) - 1, hashes[-1]),
            )
    echo(f"    {entries:,} ledger entries stored ({time.perf_counter() - start:.1f} s)")

    update = zip(count.tolist(), final.tolist(), rule, rid.tolist(), strict=True)
    if kind == "sqlite":
        load.conn.executemany(
            "UPDATE response SET state = 'final', marks_needed = ?, marks_done = ?, held = 0, "
            "final = ?, final_rule = ? WHERE id = ?",
            ((k, k, f, r, i) for k, f, r, i in update),
        )
    else:
        load.execute(
            "CREATE TEMP TABLE bench_final (id bigint, done int, final bigint, rule text) "
            "ON COMMIT DROP"
        )
        load.rows("bench_final", ("done", "final", "rule", "id"), update)
        load.execute(
            "UPDATE response r SET state = 'final', marks_needed = b.done, marks_done = b.done, "
            "held = 0, final = b.final, final_rule = b.rule FROM bench_final b WHERE r.id = b.id"
        )
        for table in ("mark", "lease", "arbitration"):
            load.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
    load.commit()
    echo(f"    responses finalised ({time.perf_counter() - start:.1f} s)")
    if kind == "postgres":
        assert target.pg_url is not None
        from _common import pg_connect

        with pg_connect(target.pg_url, target.schema, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            conn.execute("CHECKPOINT")
        echo(f"    VACUUM ANALYZE, CHECKPOINT ({time.perf_counter() - start:.1f} s)")
    stats.update(
        leases=count_leases,
        ledger_entries=entries,
        seconds=time.perf_counter() - start,
    )
    return stats


def _text(milli: int) -> str:
    """A mark as the examiner would have typed it (its Decimal text, as the queue records)."""
    from decimal import Decimal

    return f"{Decimal(milli).scaleb(-3).normalize():f}"


def verify_session(url: str) -> list[str]:
    from marking.audit.verify import verify
    from marking.setup.sessions import get_session
    from marking.store.db import make_engine, transaction

    engine = make_engine(url)
    try:
        with transaction(engine) as db:
            report = verify(db, get_session(db, CODE))
        return report.problems
    finally:
        engine.dispose()


# --- children: one measurement each -----------------------------------------------------------


def _child_check(spec: dict[str, Any]) -> dict[str, Any]:
    from marking.publication import publish as publication
    from marking.setup.sessions import get_session
    from marking.store.db import make_engine, session_factory

    engine = make_engine(spec["url"])
    with engine.connect():
        pass
    captured: dict[str, Any] = {}
    real = publication.reconcile_many

    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        result = real(*args, **kwargs)
        captured["in_function"] = time.perf_counter() - t
        captured["args"], captured["kwargs"] = args, kwargs
        return result

    publication.reconcile_many = timed  # type: ignore[assignment]
    rss_before = current_rss_mib()
    db = session_factory(engine)()
    try:
        exam = get_session(db, spec["code"])
        start = time.perf_counter()
        checked = publication.check_reconciliation(db, exam)
        whole = time.perf_counter() - start
    finally:
        db.rollback()
        db.close()
    publication.reconcile_many = real  # type: ignore[assignment]
    grid = captured["args"][0]
    alone = []
    for _ in range(3):
        t = time.perf_counter()
        real(*captured["args"], **captured["kwargs"])
        alone.append(time.perf_counter() - t)
    engine.dispose()
    return {
        "responses_checked": checked,
        "marks": int(captured["args"][1].sum()),
        "grid_shape": list(grid.shape),
        "check_reconciliation_seconds": whole,
        "reconcile_many_in_function_seconds": captured["in_function"],
        "reconcile_many_alone_seconds": min(alone),
        "reconcile_many_alone_runs": alone,
        "rss_before_mib": rss_before,
        "peak_rss_mib": peak_rss_mib(),
    }


def _child_publish(spec: dict[str, Any]) -> dict[str, Any]:
    from _session import DIRECTOR, OFFICE

    from marking.audit import ledger
    from marking.people.accounts import get_account
    from marking.publication import approvals
    from marking.publication import publish as publication
    from marking.setup.sessions import get_session
    from marking.store.db import make_engine, session_factory

    engine = make_engine(spec["url"])
    with engine.connect():
        pass
    phases: dict[str, float] = {}

    def timer(module: Any, name: str, label: str) -> None:
        real = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - t

        setattr(module, name, timed)

    for name, label in (
        ("unseal_roster", "unseal roster"),
        ("withdrawn_scripts", "unseal withdrawn batches"),
        ("open_work", "open work"),
        ("sealed_items", "unseal records"),
        ("late_findings", "late conflicts"),
        ("check_reconciliation", "check_reconciliation"),
        ("_component_totals", "component totals (SQL)"),
        ("results_digest", "results digest"),
    ):
        timer(publication, name, label)
    timer(ledger, "head", "ledger head")
    timer(ledger, "append", "ledger append")

    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
    rss_before = current_rss_mib()
    cpu_start = cpu_seconds()
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    db = session_factory(engine)()
    with db:
        exam = get_session(db, spec["code"])
        assert exam.public_key is not None
        t = time.perf_counter()
        key = publication.open_key(
            shares=[Path(p) for p in spec["shares"]], expected_public_key=exam.public_key
        )
        phases["key from 2 shares"] = time.perf_counter() - t
        t = time.perf_counter()
        # R16: the director's approval of the session as it stands (its digest) comes first;
        # publish() recomputes that digest, which its own timing includes.
        approvals.approve_publication(db, exam, get_account(db, DIRECTOR))
        phases["director's approval"] = time.perf_counter() - t
        timer(approvals, "publication_digest", "approval digest again")
        t = time.perf_counter()
        report = publication.publish(
            db, exam, by=OFFICE, approved_by=DIRECTOR, key=key, now=dt.datetime.now(dt.UTC)
        )
        phases["publish()"] = time.perf_counter() - t
        committing = time.perf_counter()
        if spec.get("rollback"):  # --rollback: measure again and again on one database
            db.rollback()
        else:
            db.commit()
    end = time.perf_counter()
    phases["rollback" if spec.get("rollback") else "commit"] = end - committing
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(spec["profile"])
        import pstats

        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(30)
    engine.dispose()
    return {
        "seconds": end - start,
        "cpu_seconds": cpu_seconds() - cpu_start,
        "candidates": report.candidates,
        "outcomes": report.outcomes,
        "responses_checked": report.responses_checked,
        "phases": phases,
        "rss_before_mib": rss_before,
        "peak_rss_mib": peak_rss_mib(),
    }


# --- the parent ---------------------------------------------------------------------------------


def run_database(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from _session import build_session

    def echo(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    reused = (args.reuse or {}).get(kind)
    if reused:  # a database kept by an earlier --keep run: straight to the measurements
        target = Target(**reused["target"])
        result: dict[str, Any] = {
            k: reused[k] for k in ("setup_services_seconds", "responses", "bulk", "shares")
        }
        result["database"] = kind
        verify = False
    else:
        target = Target.fresh(kind, workdir, "publish", args.pg_url)
        result = {"database": kind}
    try:
        if not reused:
            echo(f"{kind}: setting up {args.candidates:,} candidates through the services ...")
            t = time.perf_counter()
            built = build_session(
                target.url,
                workdir / f"session-{kind}",
                code=CODE,
                candidates=args.candidates,
                questions_per_component=QUESTIONS,
                objective_share=0.5,
                examiners=args.examiners,
                seed=args.seed,
                marks_required=2,
                conflicts=max(2, args.candidates // 5000),
                violations=max(5, args.candidates // 2000),
                echo=True,
            )
            result["setup_services_seconds"] = time.perf_counter() - t
            result["responses"] = built.responses
            result["shares"] = [
                str(p) for p in sorted(Path(built.shares_dir).glob("share-*.txt"))[:2]
            ]
            echo(f"{kind}: marking in bulk ...")
            result["bulk"] = mark_in_bulk(target, built, seed=args.seed, echo=echo)
            verify = args.candidates <= VERIFY_UP_TO
        if verify:
            t = time.perf_counter()
            problems = verify_session(target.url)
            result["verify_before_seconds"] = time.perf_counter() - t
            result["verify_before"] = problems
            if problems:
                raise RuntimeError(f"the bulk-marked session does not verify: {problems[:3]}")
            echo(f"{kind}: marking.audit.verify finds the marked session sound")
        spec: dict[str, Any] = {"role": "check", "url": target.url, "code": CODE}
        target.checkpoint()
        echo(f"{kind}: check_reconciliation ...")
        result["check"] = run_child(HERE, spec)
        echo(
            f"  {result['check']['check_reconciliation_seconds']:.2f} s whole, reconcile_many "
            f"{result['check']['reconcile_many_alone_seconds']:.3f} s alone"
        )
        spec = {
            "role": "publish",
            "url": target.url,
            "code": CODE,
            "shares": result["shares"],
            "rollback": args.rollback,
        }
        if args.profile:
            RESULTS.mkdir(parents=True, exist_ok=True)
            spec["profile"] = str(RESULTS / f"publish-{kind}-{args.candidates}.pstats")
        target.checkpoint()
        echo(f"{kind}: publish ...")
        result["publish"] = run_child(HERE, spec)
        echo(f"  {result['publish']['seconds']:.2f} s")
        if verify and not args.rollback:
            problems = verify_session(target.url)
            result["verify_after"] = problems
            if problems:
                raise RuntimeError(f"the published session does not verify: {problems[:3]}")
            echo(f"{kind}: marking.audit.verify finds the published session sound")
        result["target"] = asdict(target)
    finally:
        if not (args.keep or reused):
            target.drop()
    return result


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        f"{'database':<9}{'responses':>11}{'marks':>11}{'publish s':>11}{'check s':>9}"
        f"{'numpy s':>9}{'numpy in fn':>12}{'peak RSS MiB':>14}{'setup s':>9}"
    ]
    for r in results:
        lines.append(
            f"{r['database']:<9}{r['responses']:>11,}{r['check']['marks']:>11,}"
            f"{r['publish']['seconds']:>11.2f}{r['check']['check_reconciliation_seconds']:>9.2f}"
            f"{r['check']['reconcile_many_alone_seconds']:>9.3f}"
            f"{r['check']['reconcile_many_in_function_seconds']:>12.3f}"
            f"{r['publish']['peak_rss_mib']:>14.0f}"
            f"{r['setup_services_seconds'] + r['bulk']['seconds']:>9.0f}"
        )
    return "\n".join(lines)


def phases(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        p = r["publish"]
        lines.append(f"{r['database']} publish ({p['seconds']:.2f} s):")
        for name, seconds in sorted(p["phases"].items(), key=lambda kv: -kv[1]):
            lines.append(f"  {name:<34}{seconds:8.2f} s")
    return "\n".join(lines)


def verdicts(results: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in results:
        s = r["publish"]["seconds"]
        out.append(
            f"{'PASS' if s < TARGET_PUBLISH_S else 'FAIL'} {r['database']}: publish {s:.1f} s "
            f"(target < {TARGET_PUBLISH_S:.0f} s)"
        )
        n = r["check"]["reconcile_many_alone_seconds"]
        out.append(
            f"{'PASS' if n < TARGET_NUMPY_S else 'FAIL'} {r['database']}: numpy reconciliation "
            f"of {r['check']['marks']:,} marks {n:.2f} s (target < {TARGET_NUMPY_S:.0f} s)"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, help="candidates (default 100000)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CANDIDATES} candidates")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--examiners", type=int, default=60)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--workdir", type=Path, help="batch and SQLite files (system temp)")
    parser.add_argument("--profile", action="store_true", help="cProfile the publication")
    parser.add_argument("--keep", action="store_true", help="keep the databases (debugging)")
    parser.add_argument(
        "--reuse", type=Path, help="measure again on the databases a --keep run's JSON names"
    )
    parser.add_argument(
        "--rollback", action="store_true", help="roll publication back (repeatable with --reuse)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        spec = json.loads(sys.stdin.read())
        child = _child_check if spec["role"] == "check" else _child_publish
        print(json.dumps(child(spec)))
        return 0

    if args.reuse:
        kept = json.loads(args.reuse.read_text(encoding="utf-8"))
        args.candidates = kept["session"]["candidates"]
        args.reuse = {r["database"]: r for r in kept["results"]}
    if args.candidates is None:
        args.candidates = QUICK_CANDIDATES if args.quick else 100_000
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    today = dt.date.today().isoformat()
    suffix = (
        "-quick" if args.quick else ("" if args.candidates == 100_000 else f"-{args.candidates}")
    )
    out = args.out or RESULTS / f"publish-{today}{suffix}.json"
    workdir = Path(tempfile.mkdtemp(prefix="blindmark-bench-publish-", dir=args.workdir))
    started = time.perf_counter()
    results = []
    try:
        for kind in kinds:
            results.append(run_database(kind, args, workdir))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report = {
        "benchmark": "publish",
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(["python", *sys.argv]),
        "machine": machine(args.pg_url if "postgres" in kinds else None),
        "source": source_state(
            HERE.parent.parent,
            "marking/publication/publish.py",
            "marking/domain/rules/reconciliation.py",
            "marking/domain/rules/vectorised.py",
            "marking/domain/rules/scores.py",
            "marking/domain/rules/arrays.py",
            "marking/audit/ledger.py",
        ),
        "session": {
            "candidates": args.candidates,
            "components": 2,
            "questions_per_component": QUESTIONS,
            "objective_share": 0.5,
            "examiners": args.examiners,
            "seed": args.seed,
        },
        "targets": {"publish_seconds": TARGET_PUBLISH_S, "numpy_seconds": TARGET_NUMPY_S},
        "wall_seconds": time.perf_counter() - started,
        "results": results,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print(
        f"publication of {args.candidates:,} candidates x 2 x {QUESTIONS} questions "
        "(half objective, double-marked)"
    )
    print(table(results))
    print()
    print(phases(results))
    print()
    for verdict in verdicts(results):
        print(verdict)
    print(f"\nresults: {out} ({report['wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

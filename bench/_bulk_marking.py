"""A built session marked in bulk, as the queue would have left it (bench/publish.py).

For every examiner-marked response: two marks from distinct examiners (never an excluded
one), a third where they disagree beyond tolerance, the lead's arbitration where the third
does not settle it; a submitted lease per mark (and some expired ones), a ledger entry per
mark and per arbitration chained per lane with ``marking.audit.ledger.entry_hash``, and each
response's counters, final and rule as ``marking.domain.rules.reconcile`` decides them.
Written by the bare driver: COPY on PostgreSQL, executemany on SQLite.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any

from _common import Target

OUT_OF_TOLERANCE = 0.06  # share of first and second marks far off: third marks
THIRD_FAR = 0.15  # share of third marks far off too: arbitrations
EXPIRED_LEASES = 0.01  # share of marks preceded by an expired lease of the same examiner
BASE_TIME = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)
CHUNK = 100_000


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


def _text(milli: int) -> str:
    """A mark as the examiner would have typed it (its Decimal text, as the queue records)."""
    from decimal import Decimal

    return f"{Decimal(milli).scaleb(-3).normalize():f}"


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


@dataclass
class _Responses:
    """The examiner-marked responses (numpy columns) and who may mark them."""

    rid: Any
    script: Any
    top: Any
    step: Any
    tol: Any
    group: Any  # each response's marking group, recorded with its marks
    accounts: dict[str, int]
    examiner_ids: Any
    excluded: set[tuple[int, int]]


@dataclass
class _Decided:
    """Each response's marks as drawn and what the queue would have decided from them."""

    who: Any  # (n, 3) examiner indices
    values: Any  # (n, 3) marks in milli
    count: Any  # marks given: 2 or 3
    final: Any
    rule: list[str]
    arbitrated: list[int]


@dataclass
class _Timeline:
    """Marks (m_*) and arbitrations (a_*) in time order; ids follow time."""

    m_resp: Any
    m_id: Any
    m_micros: Any
    m_examiner: Any
    m_value: Any
    m_kind: Any
    a_resp: Any
    a_id: Any
    a_micros: Any


def mark_in_bulk(target: Target, built: Any, *, seed: int, echo: Any) -> dict[str, Any]:
    """Give every examiner-marked response the marks, leases, ledger entries and final the
    queue would have; see the module's docstring."""
    import numpy as np

    start = time.perf_counter()
    load = Loader(target)
    sid = built.session_id
    got = _load_responses(load, built)
    n = len(got.rid)
    echo(f"    loaded {n:,} examiner-marked responses ({time.perf_counter() - start:.1f} s)")
    rng = np.random.default_rng(seed)
    decided = _decide(rng, got)
    third = np.flatnonzero(decided.count == 3)
    stats: dict[str, Any] = {
        "responses": n,
        "third_marks": len(third),
        "arbitrations": len(decided.arbitrated),
        "examiners": len(got.examiner_ids),
    }
    echo(
        f"    decided {n:,} responses: {len(third):,} third marks, {len(decided.arbitrated):,} "
        f"arbitrations ({time.perf_counter() - start:.1f} s)"
    )
    line = _timeline(rng, got, decided, third)
    stats["marks"] = len(line.m_resp)
    jobs = _ledger_jobs(load, sid, built, got, decided, line)
    hashed = _hash_lanes(jobs)
    echo(
        f"    hashed {sum(len(j['ids']) for j in jobs):,} ledger entries in {len(jobs)} lanes "
        f"({time.perf_counter() - start:.1f} s)"
    )
    count_leases = _store_leases_and_marks(load, rng, got, line)
    echo(f"    leases and marks stored ({time.perf_counter() - start:.1f} s)")
    _store_arbitrations(load, got, decided, line)
    entries = _store_ledger(load, sid, jobs, hashed)
    echo(f"    {entries:,} ledger entries stored ({time.perf_counter() - start:.1f} s)")
    _finalise_responses(load, got, decided)
    echo(f"    responses finalised ({time.perf_counter() - start:.1f} s)")
    if target.kind == "postgres":
        _vacuum(target)
        echo(f"    VACUUM ANALYZE, CHECKPOINT ({time.perf_counter() - start:.1f} s)")
    stats.update(
        leases=count_leases,
        ledger_entries=entries,
        seconds=time.perf_counter() - start,
    )
    return stats


def _load_responses(load: Loader, built: Any) -> _Responses:
    """The session's examiner-marked responses, its examiners' ids and the exclusions."""
    import numpy as np
    from _session import LEAD

    rows = load.execute(
        "SELECT r.id, r.script_id, q.max, q.step, q.tolerance, r.group_id FROM response r "
        "JOIN question q ON q.id = r.question_id JOIN script s ON s.id = r.script_id "
        "WHERE s.session_id = %s AND r.group_id IS NOT NULL ORDER BY r.id",
        (built.session_id,),
    ).fetchall()
    data = np.array(rows, dtype=np.int64).reshape(-1, 6)
    del rows
    rid, script, top, step, tol, group = (np.ascontiguousarray(data[:, i]) for i in range(6))
    del data
    accounts = dict(
        load.execute(
            "SELECT username, id FROM account WHERE username IN ("
            + ", ".join(["%s"] * (len(built.examiners) + 1))
            + ")",
            (*built.examiners, LEAD),
        ).fetchall()
    )
    examiner_ids = np.array([accounts[u] for u in built.examiners], dtype=np.int64)
    excluded = set(load.execute("SELECT script_id, examiner_id FROM exclusion").fetchall())
    return _Responses(rid, script, top, step, tol, group, accounts, examiner_ids, excluded)


def _decide(rng: Any, got: _Responses) -> _Decided:
    """Draw three examiners and three marks per response, then decide each as the queue
    does, mark by mark, with the scalar rule it uses."""
    import numpy as np

    from marking.domain.rules import Final, NeedsArbitration, NeedsThird, reconcile

    n = len(got.rid)
    who = _examiners(rng, got)
    step, tol = got.step, got.tol
    steps = got.top // step
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
    return _Decided(who, values, count, final, rule, arbitrated)


def _examiners(rng: Any, got: _Responses) -> Any:
    """Three distinct examiners per response, none excluded from its script."""
    import numpy as np

    n, e = len(got.rid), len(got.examiner_ids)
    script, examiner_ids, excluded = got.script, got.examiner_ids, got.excluded
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
    return who


def _timeline(rng: Any, got: _Responses, decided: _Decided, third: Any) -> _Timeline:
    """The timeline: first and second marks of every response (in a random order of
    responses), then the third marks, then the lead's arbitrations; ids follow time."""
    import numpy as np

    n = len(got.rid)
    order = rng.permutation(n)
    m_resp = np.concatenate([np.repeat(order, 2), rng.permutation(third)])
    m_slot = np.concatenate([np.tile([0, 1], n), np.full(len(third), 2)])
    total = len(m_resp)
    m_id = np.arange(1, total + 1, dtype=np.int64)
    a_resp = np.array(decided.arbitrated, dtype=np.int64)
    a_id = np.arange(1, len(a_resp) + 1, dtype=np.int64)
    return _Timeline(
        m_resp=m_resp,
        m_id=m_id,
        m_micros=m_id * 20_000,  # a mark every 20 ms, over the days of marking
        m_examiner=got.examiner_ids[decided.who[m_resp, m_slot]],
        m_value=decided.values[m_resp, m_slot],
        m_kind=np.where(m_slot == 2, "third", "double"),
        a_resp=a_resp,
        a_id=a_id,
        a_micros=(total + a_id) * 20_000,
    )


def _ledger_jobs(
    load: Loader, sid: int, built: Any, got: _Responses, decided: _Decided, line: _Timeline
) -> list[dict[str, Any]]:
    """Ledger chains: per lane, the entries in time order, after the lane's current tip."""
    import numpy as np
    from _session import LEAD

    from marking.audit.ledger import GENESIS

    jobs = []
    rid = got.rid
    lane_of_examiner = {int(x): u for x, u in zip(got.examiner_ids, built.examiners, strict=True)}
    by_lane = np.argsort(line.m_examiner, kind="stable")
    bounds = np.flatnonzero(np.diff(line.m_examiner[by_lane])) + 1
    for part in np.split(by_lane, bounds):
        if not len(part):
            continue
        jobs.append(
            {
                "lane": lane_of_examiner[int(line.m_examiner[part[0]])],
                "kind": "mark",
                "key": "mark",
                "ids": line.m_id[part].tolist(),
                "rids": rid[line.m_resp[part]].tolist(),
                "values": [_text(v) for v in line.m_value[part].tolist()],
                "mark_kinds": line.m_kind[part].tolist(),
                "micros": line.m_micros[part].tolist(),
                "part": part,
            }
        )
    if len(line.a_resp):
        jobs.append(
            {
                "lane": LEAD,
                "kind": "arbitration",
                "key": "arbitration",
                "ids": line.a_id.tolist(),
                "rids": rid[line.a_resp].tolist(),
                "values": [_text(v) for v in decided.final[line.a_resp].tolist()],
                "mark_kinds": None,
                "micros": line.a_micros.tolist(),
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
    assert {j["lane"] for j in jobs} <= {*built.examiners, LEAD}
    return jobs


def _hash_lanes(jobs: list[dict[str, Any]]) -> list[tuple[list[str], list[str]]]:
    """Every lane's chain hashed, a lane per worker process."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool() as pool:
        return pool.map(_lane_hashes, [{k: v for k, v in j.items() if k != "part"} for j in jobs])


def _store_leases_and_marks(load: Loader, rng: Any, got: _Responses, line: _Timeline) -> int:
    """A submitted lease per mark, some expired leases before them, and the marks;
    returns how many leases."""
    import numpy as np

    kind = load.kind
    total = len(line.m_resp)
    expired = np.flatnonzero(rng.random(total) < EXPIRED_LEASES)
    m_rid = got.rid[line.m_resp]
    m_id, m_examiner, m_micros = line.m_id, line.m_examiner, line.m_micros

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
        ("id", "response_id", "examiner_id", "group_id", "kind", "value", "lease_id", "created_at"),
        chunked(
            [m_id, m_rid, m_examiner, got.group[line.m_resp], line.m_kind, line.m_value, m_id],
            [(m_micros, 0)],
            (),
        ),
    )
    return count_leases


def _store_arbitrations(load: Loader, got: _Responses, decided: _Decided, line: _Timeline) -> None:
    """The lead's arbitrations, each at its place in the timeline."""
    from _session import LEAD

    lead_id = got.accounts[LEAD]
    a_stamp = _stamps(line.a_micros, load.kind)
    load.rows(
        "arbitration",
        ("id", "response_id", "lead_id", "value", "reason", "created_at"),
        (
            (
                int(line.a_id[j]),
                int(got.rid[i]),
                lead_id,
                int(decided.final[i]),
                "bench",
                a_stamp[j],
            )
            for j, i in enumerate(line.a_resp.tolist())
        ),
    )


def _store_ledger(
    load: Loader, sid: int, jobs: list[dict[str, Any]], hashed: list[tuple[list[str], list[str]]]
) -> int:
    """The hashed ledger entries and each lane's tip; returns how many entries."""
    from marking.audit.ledger import ENTRY_COLUMNS

    entries = 0
    for job, (hashes, payloads) in zip(jobs, hashed, strict=True):
        stamps = _stamps(job["micros"], load.kind)
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
    return entries


def _finalise_responses(load: Loader, got: _Responses, decided: _Decided) -> None:
    """Each response's counters, final and rule; then commit everything written."""
    update = zip(
        decided.count.tolist(), decided.final.tolist(), decided.rule, got.rid.tolist(), strict=True
    )
    if load.kind == "sqlite":
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


def _vacuum(target: Target) -> None:
    """VACUUM ANALYZE and CHECKPOINT, as autovacuum would have done in the days of marking."""
    from _common import pg_connect

    assert target.pg_url is not None
    with pg_connect(target.pg_url, target.schema, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")

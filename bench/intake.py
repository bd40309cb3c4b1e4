"""Benchmark: anonymizing intake of a large batch against the bare database driver.

    python bench/intake.py [--candidates N] [--questions Q] [--db sqlite|postgres|both]
                           [--out bench/results/intake-<date>.json] [--quick] [--profile]

One synthetic batch folder (``marking.demo.synthetic.write_batch``: N candidates, two
components of Q questions, the first half of each objective) is generated once, then
taken in on each database twice, each time into a fresh database built with
blindmark's migrations and holding the same session:

* ``blindmark``: ``marking.intake.batch.intake_batch`` inside ``marking.store.db.transaction``, the
  CLI's commit point; the clock runs from opening the transaction to the end of commit.
* ``baseline``: the same rows (every column intake writes: script_id, question_id, text,
  image_sha256, key_score and the queue's group_id, state, marks and final) into the
  same ``response`` table by the bare driver (sqlite3 ``executemany`` in chunks
  / psycopg ``COPY ... FROM STDIN`` with ``write_row``), in one transaction, from the
  same responses.csv read by the ``csv`` module with dict lookups for the script and
  question ids. Its script rows are created beforehand, outside the clock; objective
  scores come from blindmark's scorers through a per-question memo, so the baseline
  pays one dict lookup per objective row.

Each measurement runs in a child process of its own, which reports its peak RSS
(``ru_maxrss``); see bench/README.md for the figures and what they mean.
"""

from __future__ import annotations

# isort: off
import _paths  # noqa: F401  (first: bench/'s script names shadow stdlib and project modules)

# isort: on
import argparse
import csv
import datetime as dt
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from _common import (
    DEFAULT_PG_URL,
    Target,
    busy_ticks,
    load_average,
    machine,
    run_child,
    source_state,
    wait_until_idle,
)
from _intake_children import ACTOR, child_baseline, child_blindmark

HERE = Path(__file__).resolve()
RESULTS = HERE.parent / "results"
SEED = 2026
QUICK_CANDIDATES = 2000
SESSION_CODE = "BENCH-INTAKE"
TARGET_SQLITE_RATE = 50_000
TARGET_RATIO = 0.5
# The source files whose state the results record (commit, modified, SHA-256).
MEASURED = (
    "marking/intake/batch.py",
    "marking/intake/reading.py",
    "marking/intake/validated.py",
    "marking/intake/questions.py",
    "marking/intake/storing.py",
    "marking/store/db.py",
)


# --- the parent: setup, children, report ----------------------------------------------------


def _prepare(target: Target, method: str, toml: str, folder: Path, keys_dir: Path) -> int:
    """Migrate, create the session and its key; for the baseline, its scripts too."""
    from marking.domain.definition import parse_session_definition
    from marking.setup.sessions import create_session, init_keys
    from marking.store import schema
    from marking.store.db import make_engine, transaction

    engine = make_engine(target.url)
    schema.upgrade(engine)
    with transaction(engine) as db:
        exam = create_session(db, parse_session_definition(toml), source=toml, actor=ACTOR)
        init_keys(db, exam, actor=ACTOR, custodians=2, threshold=2, out_dir=keys_dir)
        session_id = exam.id
    engine.dispose()
    if method != "baseline":
        return session_id

    conn = target.connect()
    components = [
        r[0]
        for r in conn.execute(
            f"SELECT id FROM component WHERE session_id = {session_id} ORDER BY position"
        )
    ]
    with (folder / "candidates.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        scripts = [
            (session_id, cid, f"B{i:011d}")
            for i, (cid, _row) in enumerate((cid, row) for row in reader for cid in components)
        ]
    if target.kind == "sqlite":
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO script (session_id, component_id, code) VALUES (?, ?, ?)", scripts
        )
        conn.execute("COMMIT")
    else:
        with (
            conn.cursor() as cur,
            cur.copy("COPY script (session_id, component_id, code) FROM STDIN") as copy,
        ):
            for row in scripts:
                copy.write_row(row)
        conn.commit()
    conn.close()
    return session_id


def _verify(target: Target) -> dict[str, int]:
    """What ended up in ``response`` and ``script``, to check both methods stored the same."""
    conn = target.connect()
    try:
        names = (
            "responses",
            "scored",
            "key_score_sum",
            "text_chars",
            "with_group",
            "group_id_sum",
            "open",
            "marks_needed_sum",
            "marks_done_held_sum",
            "final_sum",
            "final_rule_key",
        )
        values = conn.execute(
            "SELECT count(*), count(key_score), coalesce(sum(key_score), 0), "
            "coalesce(sum(length(text)), 0), count(group_id), coalesce(sum(group_id), 0), "
            "coalesce(sum(CASE WHEN state = 'open' THEN 1 ELSE 0 END), 0), "
            "coalesce(sum(marks_needed), 0), coalesce(sum(marks_done + held), 0), "
            "coalesce(sum(final), 0), "
            "coalesce(sum(CASE WHEN final_rule = 'key' THEN 1 ELSE 0 END), 0) FROM response"
        ).fetchone()
        (scripts,) = conn.execute("SELECT count(*) FROM script").fetchone()
    finally:
        conn.close()
    stored = {name: int(value) for name, value in zip(names, values, strict=True)}
    stored["scripts"] = int(scripts)
    return stored


def _measure(
    kind: str, method: str, *, workdir: Path, folder: Path, toml: str, args: argparse.Namespace
) -> dict[str, Any]:
    target = Target.fresh(kind, workdir, method, args.pg_url, tuple(args.sqlite_pragma))
    try:
        session_id = _prepare(target, method, toml, folder, workdir / f"keys-{kind}-{method}")
        target.checkpoint()
        spec: dict[str, Any] = {
            "role": method,
            "target": asdict(target),
            "folder": str(folder),
            "code": SESSION_CODE,
            "session_id": session_id,
            "toml": toml,
        }
        if args.profile and method == "blindmark":
            RESULTS.mkdir(parents=True, exist_ok=True)
            spec["profile"] = str(RESULTS / f"intake-{kind}-{args.candidates}.pstats")
        waited, busy = wait_until_idle(args.max_busy, args.idle_timeout)
        print(
            f"  {kind:<8} {method:<9} (waited {waited:.0f} s for an idle machine, "
            f"busy {busy:.2f} cores) ...",
            end="",
            flush=True,
            file=sys.stderr,
        )
        ticks, wall = busy_ticks(), time.perf_counter()
        result = run_child(HERE, spec)
        wall = time.perf_counter() - wall
        # Cores the machine kept busy while the child ran: about 1 for SQLite (the child
        # alone), up to 2 for PostgreSQL (child + server); more means other work ran too.
        result["machine_busy_cores"] = (busy_ticks() - ticks) / os.sysconf("SC_CLK_TCK") / wall
        result["busy_cores_before"] = busy
        result["load_average_after"] = load_average()
        print(
            f" {result['seconds']:.1f} s (machine busy {result['machine_busy_cores']:.2f} cores)",
            file=sys.stderr,
        )
        result["stored"] = _verify(target)
    finally:
        target.drop()
    result.update(database=kind, method=method, profiled=bool(spec.get("profile")))
    result["responses_per_s"] = result["responses"] / result["seconds"]
    return result


def _cpu_total(r: dict[str, Any]) -> float:
    return float(r["cpu_seconds"]) + float(r.get("server_cpu_seconds") or 0.0)


def _table(results: list[dict[str, Any]]) -> str:
    lines = [
        f"{'database':<9}{'method':<10}{'responses':>10}{'seconds':>9}{'responses/s':>12}"
        f"{'ratio':>6}{'peak RSS MiB':>13}{'(before)':>9}{'CPU s':>8}{'(server)':>9}"
        f"{'CPU ratio':>10}{'busy':>6}",
    ]
    for r in results:
        none = "1.00" if r["method"] == "baseline" else "-"
        ratio = f"{r['ratio_to_baseline']:.2f}" if "ratio_to_baseline" in r else none
        cpu_ratio = f"{r['cpu_ratio_to_baseline']:.2f}" if "ratio_to_baseline" in r else none
        server = r.get("server_cpu_seconds")
        lines.append(
            f"{r['database']:<9}{r['method']:<10}{r['responses']:>10,}{r['seconds']:>9.2f}"
            f"{r['responses_per_s']:>12,.0f}{ratio:>6}{r['peak_rss_mib']:>13.0f}"
            f"{r['rss_before_mib']:>9.0f}{_cpu_total(r):>8.2f}"
            f"{'-' if server is None else f'{server:.2f}':>9}{cpu_ratio:>10}"
            f"{r['machine_busy_cores']:>6.2f}"
        )
    return "\n".join(lines)


def _phases(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        if not r.get("phases"):
            continue
        lines.append(
            f"{r['database']} {r['method']}:{'seconds':>40}{'share':>8}{'CPU s':>9}{'server':>9}"
        )
        for name, p in r["phases"].items():
            server = p.get("server_cpu_seconds")
            lines.append(
                f"  {name:<44}{p['seconds']:8.2f}{100 * p['seconds'] / r['seconds']:7.1f}%"
                f"{p['cpu_seconds']:9.2f}{'' if not server else f'{server:9.2f}'}"
            )
        if r.get("scrub_wal_seconds") is not None and r["database"] == "sqlite":
            lines.append(
                f"  {'(not counted) CLI scrub_wal after commit':<44}{r['scrub_wal_seconds']:8.2f}"
            )
    return "\n".join(lines)


def _targets(results: list[dict[str, Any]]) -> list[str]:
    verdicts = []
    for r in results:
        if r["method"] != "blindmark":
            continue
        if r["database"] == "sqlite":
            ok = r["responses_per_s"] >= TARGET_SQLITE_RATE
            verdicts.append(
                f"{'PASS' if ok else 'FAIL'} sqlite: {r['responses_per_s']:,.0f} responses/s "
                f"(target >= {TARGET_SQLITE_RATE:,}; "
                f"{r['responses'] / _cpu_total(r):,.0f} per CPU-second)"
            )
        if "ratio_to_baseline" in r:
            ok = r["ratio_to_baseline"] >= TARGET_RATIO
            verdicts.append(
                f"{'PASS' if ok else 'FAIL'} {r['database']}: {r['ratio_to_baseline']:.2f} of the "
                f"driver baseline (target >= {TARGET_RATIO}; "
                f"{r['cpu_ratio_to_baseline']:.2f} in CPU time)"
            )
    return verdicts


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child:
        spec = json.loads(sys.stdin.read())
        child = child_blindmark if spec["role"] == "blindmark" else child_baseline
        print(json.dumps(child(spec)))
        return 0

    if args.candidates is None:
        args.candidates = QUICK_CANDIDATES if args.quick else 100_000
    if args.idle_timeout is None:
        args.idle_timeout = 15 if args.quick else 120
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    out = args.out or RESULTS / f"intake-{dt.date.today().isoformat()}{_suffix(args)}.json"

    # A kill (SIGTERM) unwinds like Ctrl-C, so the temp dir and PostgreSQL schemas go.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="blindmark-bench-", dir=args.workdir))
    try:
        folder = workdir / "batch"
        rows, size, generation, toml = _generate(folder, args)
        results = []
        for kind in kinds:
            results += _measure_both(kind, workdir=workdir, folder=folder, toml=toml, args=args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    report = {
        "benchmark": "intake",
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(["python", *sys.argv]),
        "machine": machine(args.pg_url if "postgres" in kinds else None),
        "source": source_state(HERE.parent.parent, *MEASURED),
        "batch": {
            "candidates": args.candidates,
            "components": 2,
            "questions_per_component": args.questions,
            "objective_share": 0.5,
            "seed": args.seed,
            "responses": rows,
            "responses_csv_mib": round(size / 2**20, 1),
            "generation_seconds": round(generation, 2),
        },
        "sqlite_pragmas": args.sqlite_pragma,
        "targets": {"sqlite_responses_per_s": TARGET_SQLITE_RATE, "ratio": TARGET_RATIO},
        "results": results,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _print_report(args, rows, generation, results, out)
    return 0


def _parser() -> argparse.ArgumentParser:
    """The command line's options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, help="candidates (default 100000)")
    parser.add_argument("--questions", type=int, default=30, help="questions per component")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--out", type=Path, help="JSON results (default bench/results/...)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CANDIDATES} candidates")
    parser.add_argument(
        "--method",
        choices=("blindmark", "baseline", "both"),
        default="both",
        help="measure only one side (no ratio then)",
    )
    parser.add_argument(
        "--sqlite-pragma",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra SQLite pragma for both methods' connections, e.g. cache_size=-65536 "
        "(explores tuning; blindmark itself sets none of these)",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--pg-url", default=DEFAULT_PG_URL, help=f"PostgreSQL database (default {DEFAULT_PG_URL})"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where the batch and SQLite files go (default: system temp)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the blindmark intake under cProfile (slower; times are then not comparable)",
    )
    parser.add_argument(
        "--max-busy",
        type=float,
        default=0.5,
        help="before each measurement, wait until the machine keeps fewer cores busy (0.5)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        help="longest wait for that, seconds (120; 15 with --quick)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser


def _suffix(args: argparse.Namespace) -> str:
    """The results file's name after the date: what this run did differently."""
    return "".join(
        part
        for part, wanted in (
            ("-quick", args.quick),
            (f"-{args.candidates}", not args.quick and args.candidates != 100_000),
            ("-profile", args.profile),
            (f"-{args.method}", args.method != "both"),
            ("-pragmas", bool(args.sqlite_pragma)),
        )
        if wanted
    )


def _generate(folder: Path, args: argparse.Namespace) -> tuple[int, int, float, str]:
    """The synthetic batch folder and its session: responses, CSV bytes, seconds, TOML."""
    from marking.demo import synthetic

    print(
        f"generating {args.candidates:,} candidates x 2 components x {args.questions} "
        f"questions in {folder} ...",
        end="",
        flush=True,
        file=sys.stderr,
    )
    start = time.perf_counter()
    people = synthetic.roster(args.candidates, seed=args.seed)
    rows = synthetic.write_batch(
        folder, people, synthetic.paper(args.questions), seed=args.seed, absent_rate=0.0
    )
    generation = time.perf_counter() - start
    del people
    size = (folder / "responses.csv").stat().st_size
    print(f" {rows:,} responses, {size / 2**20:.0f} MiB, {generation:.1f} s", file=sys.stderr)
    toml = synthetic.session_toml(SESSION_CODE, questions_per_component=args.questions)
    return rows, size, generation, toml


def _measure_both(
    kind: str, *, workdir: Path, folder: Path, toml: str, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Baseline then blindmark on one database (or the one asked for), with their ratio."""
    run = {
        method: _measure(kind, method, workdir=workdir, folder=folder, toml=toml, args=args)
        for method in ("baseline", "blindmark")
        if args.method in (method, "both")
    }
    results = [run[m] for m in ("blindmark", "baseline") if m in run]
    if len(run) < 2:
        return results
    mine, base = run["blindmark"], run["baseline"]
    mine["ratio_to_baseline"] = base["seconds"] / mine["seconds"]
    mine["cpu_ratio_to_baseline"] = _cpu_total(base) / _cpu_total(mine)
    if mine["stored"] != base["stored"]:
        print(
            f"WARNING {kind}: the two methods stored different rows: "
            f"{mine['stored']} vs {base['stored']}",
            file=sys.stderr,
        )
    return results


def _print_report(
    args: argparse.Namespace,
    rows: int,
    generation: float,
    results: list[dict[str, Any]],
    out: Path,
) -> None:
    """The figures, phases and verdicts on stdout."""
    print()
    print(
        f"intake of {args.candidates:,} candidates x 2 x {args.questions} questions: "
        f"{rows:,} responses (batch generated in {generation:.1f} s, not counted)"
    )
    print(_table(results))
    print()
    print(_phases(results))
    print()
    for verdict in _targets(results):
        print(verdict)
    if args.quick:
        print("(--quick checks that the benchmark works: too small a batch to judge the targets)")
    print(f"\nresults: {out}")


if __name__ == "__main__":
    sys.exit(main())

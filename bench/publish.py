"""Benchmark: publication of a large, fully marked session, and its numpy reconciliation.

    python bench/publish.py [--candidates N] [--quick] [--db sqlite|postgres|both]
                            [--examiners E] [--profile] [--out bench/results/publish-<date>.json]

The session (N candidates x 2 components x 30 questions, half of them objective, every
group double-marked; default N = 100,000: ~5.8 million responses of which ~2.9 million
examiner-marked, ~6 million marks) is set up in two steps:

1. through the services (bench/_session.py): accounts, session, keys in 2-of-3 shares,
   declared conflicts, one intake batch, assignment, scheme approval, violations;
2. marked in bulk (bench/_bulk_marking.py) by the bare driver (COPY on PostgreSQL,
   executemany on SQLite), as the queue would have left it: for every examiner-marked
   response two marks from distinct examiners (never an excluded one), a third where they
   disagree beyond tolerance, the lead's arbitration where the third does not settle it; a
   submitted lease per mark (and some expired ones), a ledger entry per mark and per
   arbitration chained per lane with ``marking.audit.ledger.entry_hash``, and each
   response's counters, final and rule as ``marking.domain.rules.reconcile`` decides them.
   PostgreSQL then gets VACUUM ANALYZE, as autovacuum would have done in the days of
   marking. At small sizes ``marking.audit.verify`` checks the result (chains, marks against
   ledger, finals) before and after publication.

Then, each in a child process of its own (peak RSS is that measurement's):

* ``check``: ``marking.publication.reconciliation.check_reconciliation`` as a whole (queries
  included), and ``marking.domain.rules.reconcile_many`` alone on the very arrays it built
  (best of 3);
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
TARGET_PUBLISH_S = 60.0
TARGET_NUMPY_S = 2.0


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
    from marking.publication import reconciliation
    from marking.setup.sessions import get_session
    from marking.store.db import make_engine, session_factory

    engine = make_engine(spec["url"])
    with engine.connect():
        pass
    captured: dict[str, Any] = {}
    real = reconciliation.reconcile_many

    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        result = real(*args, **kwargs)
        captured["in_function"] = time.perf_counter() - t
        captured["args"], captured["kwargs"] = args, kwargs
        return result

    reconciliation.reconcile_many = timed  # type: ignore[assignment]
    rss_before = current_rss_mib()
    db = session_factory(engine)()
    try:
        exam = get_session(db, spec["code"])
        start = time.perf_counter()
        checked = reconciliation.check_reconciliation(db, exam)
        whole = time.perf_counter() - start
    finally:
        db.rollback()
        db.close()
    reconciliation.reconcile_many = real  # type: ignore[assignment]
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


def _timer(phases: dict[str, float], module: Any, name: str, label: str) -> None:
    """Replace ``module.name`` by a wrapper adding its time to ``phases[label]``."""
    real = getattr(module, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            phases[label] = phases.get(label, 0.0) + time.perf_counter() - t

    setattr(module, name, timed)


def _time_publication_steps(phases: dict[str, float]) -> None:
    """Time publication's main steps where they are looked up: the driver's names in
    publish.py, the others in the modules that call them."""
    from marking.audit import ledger
    from marking.publication import outcomes, results
    from marking.publication import publish as publication

    for module, name, label in (
        (publication, "unseal_roster", "unseal roster"),
        (publication, "withdrawn_scripts", "unseal withdrawn batches"),
        (publication, "open_work", "open work"),
        (publication, "sealed_items", "unseal records"),
        (publication, "late_findings", "late conflicts"),
        (publication, "check_reconciliation", "check_reconciliation"),
        (outcomes, "_component_totals", "component totals (SQL)"),
        (results, "results_digest", "results digest"),
        (ledger, "head", "ledger head"),
        (ledger, "append", "ledger append"),
    ):
        _timer(phases, module, name, label)


def _publish_once(engine: Any, spec: dict[str, Any], phases: dict[str, float]) -> Any:
    """Rebuild the key, have the director approve, publish and commit (or roll back)."""
    from _session import DIRECTOR, OFFICE

    from marking.people.accounts import get_account
    from marking.publication import approvals
    from marking.publication import publish as publication
    from marking.publication.unsealing import open_key
    from marking.setup.sessions import get_session
    from marking.store.db import session_factory

    db = session_factory(engine)()
    with db:
        exam = get_session(db, spec["code"])
        assert exam.public_key is not None
        t = time.perf_counter()
        key = open_key(
            shares=[Path(p) for p in spec["shares"]], expected_public_key=exam.public_key
        )
        phases["key from 2 shares"] = time.perf_counter() - t
        t = time.perf_counter()
        # R16: the director's approval of the session as it stands (its digest) comes first;
        # publish() recomputes that digest, which its own timing includes.
        approvals.approve_publication(db, exam, get_account(db, DIRECTOR))
        phases["director's approval"] = time.perf_counter() - t
        _timer(phases, approvals, "publication_digest", "approval digest again")
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
    phases["rollback" if spec.get("rollback") else "commit"] = time.perf_counter() - committing
    return report


def _child_publish(spec: dict[str, Any]) -> dict[str, Any]:
    from marking.store.db import make_engine

    engine = make_engine(spec["url"])
    with engine.connect():
        pass
    phases: dict[str, float] = {}
    _time_publication_steps(phases)
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
    rss_before = current_rss_mib()
    cpu_start = cpu_seconds()
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    report = _publish_once(engine, spec, phases)
    end = time.perf_counter()
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


def _echo(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _build_and_mark(
    kind: str, args: argparse.Namespace, workdir: Path, target: Target
) -> dict[str, Any]:
    """Set the session up through the services, then mark it in bulk; what that took."""
    from _bulk_marking import mark_in_bulk
    from _session import build_session

    result: dict[str, Any] = {"database": kind}
    _echo(f"{kind}: setting up {args.candidates:,} candidates through the services ...")
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
    result["shares"] = [str(p) for p in sorted(Path(built.shares_dir).glob("share-*.txt"))[:2]]
    _echo(f"{kind}: marking in bulk ...")
    result["bulk"] = mark_in_bulk(target, built, seed=args.seed, echo=_echo)
    return result


def _verified(kind: str, url: str, result: dict[str, Any], *, when: str) -> None:
    """Run marking.audit.verify on the session, ``when`` "before" or "after" publication;
    raise if it finds anything."""
    t = time.perf_counter()
    problems = verify_session(url)
    if when == "before":
        result["verify_before_seconds"] = time.perf_counter() - t
    result[f"verify_{when}"] = problems
    state, sound = ("bulk-marked", "marked") if when == "before" else ("published", "published")
    if problems:
        raise RuntimeError(f"the {state} session does not verify: {problems[:3]}")
    _echo(f"{kind}: marking.audit.verify finds the {sound} session sound")


def _measure(
    kind: str, args: argparse.Namespace, target: Target, result: dict[str, Any], verify: bool
) -> None:
    """The two measurements, each in a child process: the check, then publication."""
    spec: dict[str, Any] = {"role": "check", "url": target.url, "code": CODE}
    target.checkpoint()
    _echo(f"{kind}: check_reconciliation ...")
    result["check"] = run_child(HERE, spec)
    _echo(
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
    _echo(f"{kind}: publish ...")
    result["publish"] = run_child(HERE, spec)
    _echo(f"  {result['publish']['seconds']:.2f} s")
    if verify and not args.rollback:
        _verified(kind, target.url, result, when="after")


def run_database(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
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
    try:
        if not reused:
            result = _build_and_mark(kind, args, workdir, target)
            verify = args.candidates <= VERIFY_UP_TO
        if verify:
            _verified(kind, target.url, result, when="before")
        _measure(kind, args, target, result, verify)
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


def _parser() -> argparse.ArgumentParser:
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
    return parser


def _print_summary(
    args: argparse.Namespace, results: list[dict[str, Any]], out: Path, wall: float
) -> None:
    """The tables, the phases and the verdicts, for the person who ran the benchmark."""
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
    print(f"\nresults: {out} ({wall:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
            "marking/publication/reconciliation.py",
            "marking/publication/outcomes.py",
            "marking/publication/results.py",
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
    _print_summary(args, results, out, report["wall_seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

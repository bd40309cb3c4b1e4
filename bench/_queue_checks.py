"""bench/queue.py's quality control switch: seeds and 回评 on or off in a fresh copy."""

from __future__ import annotations

from typing import Any


def quality_control(target: dict[str, Any], session_id: int, *, on: bool, seeds: int) -> None:
    """Seeds and 回评 on (the defaults, 1 in 20 and 1 in 100) or off in every group of the
    copy; on, ``seeds`` responses of each group final and made seeds."""
    from decimal import Decimal

    from _queue_work import true_steps
    from sqlalchemy import select, update

    from marking.store.db import make_engine, transaction
    from marking.store.models import ExamSession, MarkingGroup, Question, Response, ResponseState
    from marking.store.models.checks import CheckItem, CheckPurpose

    engine = make_engine(target["url"])
    try:
        with transaction(engine) as db:
            exam = db.get(ExamSession, session_id)
            assert exam is not None and exam.lead_id is not None
            seed, remark = (Decimal("0.05"), Decimal("0.01")) if on else (Decimal(0), Decimal(0))
            db.execute(
                update(MarkingGroup)
                .where(MarkingGroup.session_id == session_id)
                .values(seed_rate=seed, remark_rate=remark)
            )
            if not on:
                return
            for group in exam.groups:
                rows = db.execute(
                    select(Response.id, Question.max, Question.step)
                    .join(Question, Question.id == Response.question_id)
                    .where(Response.group_id == group.id)
                    .order_by(Response.queue_key.desc())  # the end of the queue: marked last
                    .limit(seeds)
                ).all()
                for rid, maximum, step in rows:
                    # The definitive mark: the simulated examiners' true mark (they stray
                    # from it as from any response's, so alarms are as rare as in life).
                    value = true_steps(rid, int(maximum / step)) * step
                    db.execute(
                        update(Response)
                        .where(Response.id == rid)
                        .values(state=ResponseState.FINAL, final=value, final_rule="seed")
                    )
                    db.add(
                        CheckItem(
                            session_id=session_id,
                            group_id=group.id,
                            response_id=rid,
                            purpose=CheckPurpose.SEED,
                            value=value,
                            created_by=exam.lead_id,
                        )
                    )
    finally:
        engine.dispose()


def checks_among(db: Any, code: str, handles: list[str]) -> set[str]:
    """Which of these handles are checks (the bench may know; the examiner may not)."""
    from marking.queue import handles as handle_codec
    from marking.setup.sessions import get_session

    exam = get_session(db, code)
    return {h for h in handles if handle_codec.target(exam, h)[0] is handle_codec.Kind.CHECK}


def seeded_session(
    target: Any, workdir: Any, code: str, *, candidates: int, seeds: int, rate: Any
) -> tuple[list[str], str]:
    """The check benchmarks' session (bench/handback.py, bench/pace.py): ``candidates`` of
    4 questions a component, three examiners, set up through the services; every group
    ``seeds`` seeds and the first group (the one claims fill first) a seed rate of ``rate``.
    Returns the examiners' usernames and that group's key."""
    from _session import build_session
    from sqlalchemy import update

    from marking.setup.sessions import get_session
    from marking.store.db import make_engine, transaction
    from marking.store.models import MarkingGroup

    built = build_session(
        target.url,
        workdir / f"session-{target.kind}",
        code=code,
        candidates=candidates,
        questions_per_component=4,
        objective_share=0.0,
        examiners=3,
        seed=2026,
    )
    quality_control({"url": target.url}, built.session_id, on=True, seeds=seeds)
    engine = make_engine(target.url)
    try:
        with transaction(engine) as db:
            group = min(get_session(db, code).groups, key=lambda g: g.id)
            db.execute(
                update(MarkingGroup).where(MarkingGroup.id == group.id).values(seed_rate=rate)
            )
            return list(built.examiners), group.key
    finally:
        engine.dispose()


def checks_parser(doc: str, *, rounds: int, batch: int, quick: int) -> Any:
    """The options the check benchmarks share."""
    import argparse
    from pathlib import Path

    from _common import DEFAULT_PG_URL

    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{quick} rounds: that it works")
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--batch", type=int, default=batch)
    parser.add_argument("--candidates", type=int, default=400)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--workdir", type=Path, help="batch and SQLite files (system temp)")
    parser.set_defaults(quick_rounds=quick)
    return parser


def in_each_database(label: str, args: Any, run: Any, sources: tuple[str, ...]) -> Any:
    """``run(kind, args, workdir)`` on each database asked for, in a temp folder removed
    after; the record written (``bench/results/<label>-<date>.json``). Returns the results
    and where they were written."""
    import datetime as dt
    import shutil
    import tempfile
    import time
    from pathlib import Path

    from _common import write_record

    if args.quick:
        args.rounds = args.quick_rounds
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    workdir = Path(tempfile.mkdtemp(prefix=f"blindmark-bench-{label}-", dir=args.workdir))
    started = time.perf_counter()
    try:
        results = [run(kind, args, workdir) for kind in kinds]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    out = args.out or Path(__file__).parent / "results" / f"{label}-{dt.date.today()}.json"
    write_record(
        out,
        label,
        pg_url=args.pg_url if "postgres" in kinds else None,
        sources=sources,
        started=started,
        results=results,
    )
    return results, out


def echo(message: str) -> None:
    import sys

    print(message, file=sys.stderr, flush=True)


def quartiles(values: list[float]) -> list[float]:
    import statistics

    return [round(q, 3) for q in statistics.quantiles(values, n=4)] if len(values) > 1 else []

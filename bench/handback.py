"""Benchmark: a seed handed back costs what a live response handed back costs (DESIGN §13).

    python bench/handback.py [--quick] [--rounds R] [--batch B] [--candidates N]
                             [--db sqlite|postgres|both] [--pg-url URL] [--out FILE.json]

A check must not be told from live work, by its timing either: a tester who handed back
many items over HTTP and compared each one's time with the rest of its batch found the
checks a quarter of a millisecond quicker. This measures that gap in-process, where it is
not buried under HTTP's noise.

The session (N candidates, default 400) is set up through the services (bench/_session.py);
every group of it gets 20 seeds (bench/_queue_checks.py) and the first group a seed rate of
1: a check is due at every place, and one comes in each batch (the examiner's schedule gives
one a batch). Then, R rounds (default
200): one examiner claims a batch of B (default 20) of that group, as the marking screen
does (``web.actions.examiner.claim``), and hands every item back in a random order, each in
a transaction of its own as the API does (``web.actions.examiner.release``, by handle),
timing each from opening the transaction to the end of its commit. A check handed back comes
back as itself in the next round (``marking.quality.handout.come_back``), so every round holds
the same seeds among fresh live responses.

Each hand-back's time is divided by its round's median (mostly live ones): the checks'
median ratio is what a tester comparing items sees. Baseline, the same run: the live
hand-backs' median ratio (1 by construction) and the spread of both (the quartiles).
"""

from __future__ import annotations

# isort: off
import _paths  # noqa: F401  (first: bench/'s script names shadow stdlib and project modules)

# isort: on
import argparse
import random
import statistics
import time
from pathlib import Path
from typing import Any

from _common import Target
from _queue_checks import checks_parser, echo, in_each_database, quartiles

SEED = 2026
CODE = "BENCH-HANDBACK"
SEEDS_PER_GROUP = 20


def run(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from _queue_checks import checks_among, seeded_session
    from sqlalchemy import select

    from marking.setup.sessions import get_session
    from marking.store.db import make_engine, transaction
    from marking.store.models import Account
    from web.actions import examiner as actions

    target = Target.fresh(kind, workdir, "handback", args.pg_url)
    try:
        echo(f"{kind}: setting up {args.candidates:,} candidates through the services ...")
        examiners, key = seeded_session(
            target, workdir, CODE, candidates=args.candidates, seeds=SEEDS_PER_GROUP, rate=1
        )
        username = examiners[0]
        engine = make_engine(target.url)

        def step(action: Any) -> Any:
            with transaction(engine) as db:
                exam = get_session(db, CODE)
                account = db.scalars(select(Account).where(Account.username == username)).one()
                return action(db, exam, account)

        rng = random.Random(SEED)
        checks: list[float] = []
        live: list[float] = []
        seen_checks = 0
        echo(f"{kind}: {args.rounds} rounds of {args.batch} handed back ...")
        for _ in range(args.rounds):
            batch = step(lambda db, exam, me: actions.claim(db, exam, me, args.batch, group=key))
            rng.shuffle(batch)
            timed = []
            for item in batch:
                handle = item["response"]
                start = time.perf_counter()
                step(lambda db, exam, me, h=handle: actions.release(db, exam, me, h))
                timed.append((item["response"], time.perf_counter() - start))
            with transaction(engine) as db:
                is_check = checks_among(db, CODE, [h for h, _ in timed])
            median = statistics.median(t for _, t in timed)
            for handle, took in timed:
                (checks if handle in is_check else live).append(took / median)
            seen_checks += len(is_check)
        engine.dispose()
    finally:
        target.drop()
    return {
        "database": kind,
        "rounds": args.rounds,
        "batch": args.batch,
        "checks_handed_back": len(checks),
        "live_handed_back": len(live),
        "check_ratio_median": round(statistics.median(checks), 3),
        "check_ratio_quartiles": quartiles(checks),
        "live_ratio_median": round(statistics.median(live), 3),
        "live_ratio_quartiles": quartiles(live),
    }


def main(argv: list[str] | None = None) -> int:
    args = checks_parser(__doc__, rounds=200, batch=20, quick=30).parse_args(argv)
    sources = (
        "marking/queue/handback.py",
        "marking/queue/leases.py",
        "marking/quality/checks.py",
        "marking/quality/handout.py",
    )
    results, out = in_each_database("handback", args, run, sources)
    print("hand-back time ÷ its round's median (live: the baseline, 1 by construction)")
    print(
        f"{'database':<10}{'checks':>7}  {'check median':>12}  {'checks, quartiles':<24}"
        "live, quartiles"
    )
    for r in results:
        print(
            f"{r['database']:<10}{r['checks_handed_back']:>7}  {r['check_ratio_median']:>12}  "
            f"{r['check_ratio_quartiles']!s:<24}{r['live_ratio_quartiles']}"
        )
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

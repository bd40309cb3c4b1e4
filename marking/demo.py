"""`blindmark demo`: the flow end to end on synthetic data, timed stage by stage."""

from __future__ import annotations

import csv
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from marking import schema, synthetic
from marking.db import scrub_wal, transaction
from marking.definition import parse_session_definition
from marking.examiners import import_conflicts, import_examiners
from marking.exports import paper_rows
from marking.intake import intake_batch
from marking.models import ExamSession
from marking.sessions import create_session, get_session, init_keys
from marking.status import render_status, session_status

DEMO_PASSPHRASE = "demo-only passphrase 演示"
ACTOR = "demo"


def run_demo(
    engine: Engine,
    *,
    candidates: int,
    seed: int,
    out_dir: Path,
    echo: Callable[[str], None] = print,
) -> str:
    """Create a level-3 electrician session, take in two batches, and print its status.

    Returns the session code. Everything it writes goes under ``out_dir``; the key
    file's passphrase is fixed and printed, which is fine for synthetic data only.
    """
    timings: list[tuple[str, float]] = []

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        timings.append((name, time.perf_counter() - start))

    with stage("schema"):
        schema.upgrade(engine)
    with transaction(engine) as db:
        taken = set(db.scalars(select(ExamSession.code).where(ExamSession.code.like("DEMO-%"))))
    n = 1
    while f"DEMO-{seed}-{n}" in taken:
        n += 1
    code = f"DEMO-{seed}-{n}"
    run_dir = out_dir / code
    run_dir.mkdir(parents=True, exist_ok=True)
    echo(f"blindmark demo: session {code}, {candidates} synthetic candidates, seed {seed}")
    echo(f"database: {engine.url.render_as_string(hide_password=True)}")
    echo(f"files: {run_dir}")

    toml_text = synthetic.session_toml(code, questions_per_component=12)
    (run_dir / "session.toml").write_text(toml_text, encoding="utf-8")
    people = synthetic.roster(candidates, seed=seed)
    questions = synthetic.paper(12)
    half = len(people) // 2
    with stage("generate files"):
        for i, part in enumerate((people[:half], people[half:]), start=1):
            synthetic.write_batch(
                run_dir / f"batch-{i}", part, questions, seed=seed + i, image_rate=0.05
            )
        synthetic.examiners_csv(run_dir / "examiners.csv", count=12, seed=seed)
        rng = random.Random(seed)
        with (run_dir / "conflicts.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(("username", "id_number", "relation"))
            for person in rng.sample(people, min(3, len(people))):
                writer.writerow((f"exam{rng.randrange(1, 13):03d}", person.id_number, "relative"))

    key_file = run_dir / "session.key"
    with stage("session and keys"), transaction(engine) as db:
        exam = create_session(
            db, parse_session_definition(toml_text), source=toml_text, actor=ACTOR
        )
        init_keys(db, exam, actor=ACTOR, key_file=key_file, passphrase=DEMO_PASSPHRASE)
    with stage("examiners and conflicts"), transaction(engine) as db:
        import_examiners(db, run_dir / "examiners.csv")
        import_conflicts(db, run_dir / "conflicts.csv", actor=ACTOR, session=get_session(db, code))
    total_responses = 0
    for i in (1, 2):
        with stage(f"intake batch {i}"), transaction(engine) as db:
            summary = intake_batch(db, get_session(db, code), run_dir / f"batch-{i}", actor=ACTOR)
            total_responses += summary.responses
        scrub_wal(engine)
    with stage("status"), transaction(engine) as db:
        exam = get_session(db, code)
        report = render_status(session_status(db, exam))
        header, rows = paper_rows(db, exam)
    with (run_dir / "paper.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)

    echo("")
    echo(report)
    echo("")
    echo("stage                          seconds")
    for name, seconds in timings:
        echo(f"  {name:<28}{seconds:8.2f}")
    intake_seconds = sum(s for n_, s in timings if n_.startswith("intake"))
    if intake_seconds:
        echo(f"  intake rate: {total_responses / intake_seconds:,.0f} responses/s")
    echo("")
    echo(f"key file: {key_file}  (demo passphrase: {DEMO_PASSPHRASE!r})")
    echo(f"paper export: {run_dir / 'paper.csv'}")
    echo(
        "The roster is sealed: the database holds script codes only. "
        f"Try: blindmark status --session {code}"
    )
    return code

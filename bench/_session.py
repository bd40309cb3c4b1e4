"""Shared set-up for the queue and publication benchmarks: a session built through the services.

Everything here goes through blindmark's own service functions (migrations, examiner
import, session creation, keys in shares, intake, assignment, scheme approval), exactly
as the command line would, so the database the benchmarks measure is a real one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACTOR = "bench"
LEAD = "bench-lead"
OFFICE = "bench-office"
DIRECTOR = "bench-director"


@dataclass
class BuiltSession:
    code: str
    session_id: int
    examiners: list[str]
    shares_dir: str
    responses: int
    subjective: int


def session_toml(
    code: str, *, questions_per_component: int, objective_share: float, marks_required: int | None
) -> str:
    """The synthetic electrician paper; ``marks_required`` forces every group to N marks."""
    from marking.demo import synthetic

    text = synthetic.session_toml(
        code, questions_per_component=questions_per_component, objective_share=objective_share
    )
    if marks_required is not None:
        text = re.sub(r"(?m)^marks_required = \d+$", f"marks_required = {marks_required}", text)
    return text


def build_session(
    url: str,
    workdir: Path,
    *,
    code: str,
    candidates: int,
    questions_per_component: int,
    objective_share: float,
    examiners: int,
    seed: int,
    marks_required: int | None = 2,
    conflicts: int = 0,
    violations: int = 0,
    echo: bool = False,
) -> BuiltSession:
    """Migrate, create accounts and the session, take one batch in, assign, approve.

    Every examiner is assigned to every group; the session ends in state ``marking``.
    ``conflicts`` candidates are declared (before intake) by the first examiners, so intake
    turns them into exclusions; ``violations`` candidates get a recorded violation (sealed),
    every fifth of them ``void``.
    """
    import sys
    import time

    from marking.demo import synthetic
    from marking.intake.batch import intake_batch
    from marking.setup.sessions import get_session
    from marking.store import schema
    from marking.store.db import make_engine, scrub_wal, transaction

    def say(message: str) -> None:
        if echo:
            print(message, file=sys.stderr, flush=True)

    engine = make_engine(url)
    workdir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    schema.upgrade(engine)
    names = synthetic.examiners_csv(
        workdir / "examiners.csv", count=examiners, seed=seed, leads=[LEAD]
    )
    toml = session_toml(
        code,
        questions_per_component=questions_per_component,
        objective_share=objective_share,
        marks_required=marks_required,
    )
    batch = workdir / "batch"
    _write_inputs(
        workdir,
        batch,
        names,
        candidates=candidates,
        questions_per_component=questions_per_component,
        objective_share=objective_share,
        seed=seed,
        conflicts=conflicts,
        violations=violations,
    )
    say(f"  files written ({time.perf_counter() - start:.1f} s)")
    shares = workdir / "shares"
    _create_session(engine, workdir, toml, shares, with_conflicts=bool(conflicts))
    with transaction(engine) as db:
        summary = intake_batch(db, get_session(db, code), batch, actor=ACTOR, name="bench")
    scrub_wal(engine)
    say(f"  intake of {summary.responses:,} responses done ({time.perf_counter() - start:.1f} s)")
    session_id, subjective = _assign_and_approve(
        engine, workdir, code, names, with_violations=bool(violations)
    )
    engine.dispose()
    return BuiltSession(
        code=code,
        session_id=session_id,
        examiners=names,
        shares_dir=str(shares),
        responses=summary.responses,
        subjective=subjective,
    )


def _write_inputs(
    workdir: Path,
    batch: Path,
    names: list[str],
    *,
    candidates: int,
    questions_per_component: int,
    objective_share: float,
    seed: int,
    conflicts: int,
    violations: int,
) -> None:
    """The intake batch, the declared conflicts and the violations, as the office's files."""
    import csv

    from marking.demo import synthetic

    people = synthetic.roster(candidates, seed=seed)
    synthetic.write_batch(
        batch,
        people,
        synthetic.paper(questions_per_component, objective_share),
        seed=seed,
        absent_rate=0.0,
    )
    with (workdir / "conflicts.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("username", "id_number", "relation"))
        step = max(1, candidates // max(1, conflicts))
        for i in range(conflicts):
            writer.writerow(
                (names[i % len(names)], people[(i * step) % candidates].id_number, "relative")
            )
    with (workdir / "violations.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("exam_no", "component", "action", "reason"))
        step = max(1, candidates // max(1, violations))
        for i in range(violations):
            action = "void" if i % 5 == 0 else "warning"
            writer.writerow(
                (people[(i * step + 1) % candidates].exam_no, "theory", action, "bench")
            )


def _create_session(
    engine: Any, workdir: Path, toml: str, shares: Path, *, with_conflicts: bool
) -> None:
    """Examiners and the other accounts, the session, its keys in 2-of-3 shares, and the
    conflicts declared before intake."""
    from marking.domain.definition import parse_session_definition
    from marking.people.accounts import add_user
    from marking.people.examiners import import_conflicts, import_examiners
    from marking.setup.sessions import create_session, init_keys
    from marking.store.db import transaction
    from marking.store.models import Role

    with transaction(engine) as db:
        for username, role in ((LEAD, Role.LEAD), (OFFICE, Role.OFFICE), (DIRECTOR, Role.DIRECTOR)):
            add_user(db, username, role=role)
        import_examiners(db, workdir / "examiners.csv")  # the lead's certificate too
        exam = create_session(db, parse_session_definition(toml), source=toml, actor=ACTOR)
        init_keys(db, exam, actor=ACTOR, custodians=3, threshold=2, out_dir=shares)
        if with_conflicts:
            import_conflicts(db, workdir / "conflicts.csv", actor=ACTOR, session=exam)


def _assign_and_approve(
    engine: Any, workdir: Path, code: str, names: list[str], *, with_violations: bool
) -> tuple[int, int]:
    """Every examiner on every group (the lead on the first), every scheme approved, the
    violations recorded; returns the session's id and how many responses examiners mark."""
    from sqlalchemy import func, select

    from marking.intake.records import record_violations
    from marking.setup.assignment import approve_scheme, assign, get_group
    from marking.setup.sessions import get_session
    from marking.store.db import transaction
    from marking.store.models import Response, Script

    with transaction(engine) as db:
        exam = get_session(db, code)
        for n, group in enumerate(exam.groups):
            assign(db, exam, group, names, actor=ACTOR, lead=LEAD if n == 0 else None)
        for group in exam.groups:
            approve_scheme(db, exam, get_group(db, exam, group.key), by=LEAD)
        if with_violations:
            record_violations(db, exam, workdir / "violations.csv", actor=ACTOR)
        subjective = db.scalar(
            select(func.count())
            .select_from(Response)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id, Response.group_id.is_not(None))
        )
        return exam.id, int(subjective or 0)

"""`blindmark demo`: the whole flow on synthetic data, timed stage by stage.

Two sessions at one station: electricians (电工) at level 3 (theory and skills) and at
level 2 (adds the interview panel, R7). Each goes intake → assignment → scheme approval →
simulated marking → violations → publication with a director's approval → exports →
ledger verification. Nothing here is special-cased: every step calls the same service
functions as the command line.
"""

from __future__ import annotations

import csv
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.demo import synthetic
from marking.demo.simulate import simulate
from marking.domain.definition import parse_session_definition
from marking.errors import MarkingError
from marking.intake import collectives
from marking.intake.batch import intake_batch
from marking.intake.records import (
    record_interview,
    record_interview_absent,
    record_violations,
)
from marking.people.accounts import add_user, get_account, hash_password
from marking.people.examiners import import_conflicts, import_examiners
from marking.publication.approvals import approve_publication
from marking.publication.publish import publish
from marking.publication.revision_publish import approve_revision, publish_revision
from marking.publication.revisions import open_revision, short_of_examiners
from marking.publication.unsealing import open_key
from marking.read import exports
from marking.setup.assignment import approve_scheme, assign, get_group
from marking.setup.sessions import create_session, get_session, init_keys
from marking.store import schema
from marking.store.db import scrub_wal, transaction
from marking.store.models import (
    Account,
    Arbitration,
    Assignment,
    ExamSession,
    Mark,
    MarkKind,
    Response,
    Role,
    Script,
)
from reports import cells

DEMO_PASSPHRASE = "demo-only passphrase 演示"
DEMO_PASSWORD = "demo-password-2026"
ACTOR = "demo"
EXAMINERS = 12


@dataclass
class Summary:
    code: str
    level: int
    candidates: int = 0
    responses: int = 0
    subjective: int = 0
    marks: int = 0
    third_marks: int = 0
    arbitrations: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    results_sha256: str = ""
    ledger_head: str = ""
    appellant: str = ""  # the exam number of the candidate who appeals (level 3)
    timings: list[tuple[str, float]] = field(default_factory=list)


def run_demo(
    engine: Engine,
    *,
    candidates: int,
    seed: int,
    out_dir: Path,
    echo: Callable[[str], None] = print,
) -> list[str]:
    """Run both sessions; returns their codes. Files go under ``out_dir``/<run>/."""
    schema.upgrade(engine)
    with transaction(engine) as db:
        taken = set(db.scalars(select(ExamSession.code).where(ExamSession.code.like("DEMO-%"))))
    run = 1
    # A new run number when this database or the output folder already has one.
    while f"DEMO-{seed}-{run}-L3" in taken or (out_dir / f"DEMO-{seed}-{run}").exists():
        run += 1
    tag = f"DEMO-{seed}-{run}"
    run_dir = out_dir / tag
    run_dir.mkdir(parents=True, exist_ok=True)
    station = f"GD-D{seed % 1000:03d}{run:02d}"
    echo(f"blindmark demo {tag}: {candidates} synthetic candidates per session, seed {seed}")
    echo(f"database: {engine.url.render_as_string(hide_password=True)}")
    echo(f"files:    {run_dir}")

    _accounts(engine, run_dir, seed, run, tag)
    summaries = [
        _session(
            engine,
            run_dir,
            tag,
            station,
            level=3,
            date="2026-12-05",
            candidates=candidates,
            seed=seed,
            examiners=[f"exam{i:03d}" for i in range(1, 9)],
            custody="key_file",
        ),
        _session(
            engine,
            run_dir,
            tag,
            station,
            level=2,
            date="2026-12-06",
            candidates=max(10, candidates // 2),
            seed=seed + 1,
            examiners=[f"exam{i:03d}" for i in range(3, EXAMINERS + 1, 3)],
            custody="shares",
        ),
    ]
    # The level-3 appeal comes once the level-2 session has started marking, as in a station's
    # week. The examiners added for the revision join the level-3 team then, so the level-2
    # team's rotation (R10) is always judged against the team that marked level 3, not
    # against one that grew by however many the random marking left short.
    # (The level-2 team is too small to re-mark without more seniors of level 2.)
    first = summaries[0]
    with _timed(first, "appeal revision"):
        office, director = (f"{r}-{tag.lower()}" for r in ("office", "director"))
        _appeal(engine, first.code, first.appellant, office, director, seed=seed)
    echo("")
    for s in summaries:
        _print_summary(s, echo)
    echo(
        f"demo accounts (password {DEMO_PASSWORD!r}): office-{tag.lower()}, "
        f"director-{tag.lower()}, lead-{tag.lower()}, centre-{tag.lower()} (guidance centre), "
        f"examiners exam001..exam{EXAMINERS:03d}"
    )
    echo(f"exports and keys: {run_dir}")
    return [s.code for s in summaries]


def _accounts(engine: Engine, run_dir: Path, seed: int, run: int, tag: str) -> None:
    """The run's own office, director, lead and centre accounts; the examiners, shared by
    every run on the database (created by the first, updated by the next)."""
    lead = f"{Role.LEAD.value}-{tag.lower()}"
    synthetic.examiners_csv(
        run_dir / "examiners.csv", count=EXAMINERS, seed=seed, leads=[lead], run=run
    )
    with transaction(engine) as db:
        # One hash for all: argon2id is slow on purpose, and these are demo accounts.
        shared = hash_password(DEMO_PASSWORD)
        # Names a Chinese reader sees on every page: words, not role keys.
        names = {
            Role.OFFICE: "演示考务办公室",
            Role.DIRECTOR: "演示主任",
            Role.LEAD: "演示考评组长",
            Role.CENTRE: "演示鉴定指导中心",
        }
        for role, name in names.items():
            account = add_user(db, f"{role.value}-{tag.lower()}", role=role, name=name)
            account.password_hash = shared
        # The lead is a senior examiner whose certificate covers the sessions (DESIGN §14):
        # the file gives the lead account one, beside the examiners'.
        import_examiners(db, run_dir / "examiners.csv")
        for account in db.scalars(select(Account).where(Account.role == Role.EXAMINER)):
            if account.password_hash is None and account.username.startswith("exam"):
                account.password_hash = shared


def _session(
    engine: Engine,
    run_dir: Path,
    tag: str,
    station: str,
    *,
    level: int,
    date: str,
    candidates: int,
    seed: int,
    examiners: list[str],
    custody: str,
) -> Summary:
    """One session through the whole flow, stage by stage, each stage timed."""
    code = f"{tag}-L{level}"
    summary = Summary(code=code, level=level)
    folder = run_dir / code
    folder.mkdir(parents=True, exist_ok=True)

    def stage(name: str) -> AbstractContextManager[None]:
        return _timed(summary, name)

    office, director, lead = (f"{r}-{tag.lower()}" for r in ("office", "director", "lead"))
    toml_text = synthetic.session_toml(
        code, level=level, date=date, questions_per_component=12, station=station
    )
    (folder / "session.toml").write_text(toml_text, encoding="utf-8")
    people = synthetic.roster(candidates, seed=seed, prefix=f"26{level}")
    questions = synthetic.paper(12)
    rng = random.Random(seed)
    with stage("generate files"):
        _write_inputs(folder, people, questions, examiners, level=level, seed=seed, rng=rng)
    with stage("session, keys, conflicts"), transaction(engine) as db:
        _create(db, folder, toml_text, custody)
    for i in (1, 2):
        with stage(f"intake batch {i}"), transaction(engine) as db:
            intake_batch(db, get_session(db, code), folder / f"batch-{i}", actor=ACTOR)
        scrub_wal(engine)
    with stage("assignment, schemes"), transaction(engine) as db:
        _assign(db, get_session(db, code), examiners, lead)
    with stage("simulated marking"):
        report = simulate(engine, code, seed=seed)
        if report.stuck:
            raise RuntimeError("simulation left work open: " + "; ".join(report.stuck))
    with stage("violations, interviews"), transaction(engine) as db:
        exam = get_session(db, code)
        record_violations(db, exam, folder / "violations.csv", actor=ACTOR)
        centre = get_account(db, f"centre-{tag.lower()}")
        for decision in collectives.waiting(db, exam):
            collectives.approve_collective(db, exam, decision, centre, note="同意")
        if level <= 2:
            record_interview(db, exam, folder / "interview.csv", actor=ACTOR)
            if (folder / "interview-absent.csv").read_text(encoding="utf-8").count("\n") > 1:
                record_interview_absent(db, exam, folder / "interview-absent.csv", actor=ACTOR)
    with stage("publication"), transaction(engine) as db:
        _publish(db, get_session(db, code), folder, custody, office, director, summary)
    with stage("exports, verify"), transaction(engine) as db:
        exam = get_session(db, code)
        _export_and_verify(db, exam, folder)
        _count_work(db, exam, summary)
    summary.appellant = people[0].exam_no
    return summary


def _appeal(
    engine: Engine, code: str, exam_no: str, office: str, director: str, *, seed: int
) -> None:
    """One candidate appeals (复核): revision 2 re-marked by examiners who did not mark
    those answers, approved, published, and the ledger checked again (DESIGN §14)."""
    with transaction(engine) as db:
        open_revision(
            db, get_session(db, code), by=office, candidates=[exam_no], reason="考生申请复核"
        )
    report = simulate(engine, code, seed=seed + 1)
    with transaction(engine) as db:
        exam = get_session(db, code)
        short = short_of_examiners(db, exam)
        # The way out of a small team (every examiner of a group marked an answer): the office
        # assigns more examiners to the group while the revision is open.
        team = set(
            db.scalars(
                select(Account.username)
                .join(Assignment, Assignment.examiner_id == Account.id)
                .where(Assignment.session_id == exam.id)
            )
        )
        others = [u for u in (f"exam{i:03d}" for i in range(1, EXAMINERS + 1)) if u not in team]
        for key in short:
            for username in others:  # each on their own: R9 refuses those out of scope
                with suppress(MarkingError):
                    assign(db, exam, get_group(db, exam, key), [username], actor=ACTOR)
    if short:
        report = simulate(engine, code, seed=seed + 2)
    if report.stuck:
        raise RuntimeError("the revision's simulation left work open: " + "; ".join(report.stuck))
    with transaction(engine) as db:
        exam = get_session(db, code)
        approve_revision(db, exam, get_account(db, director), note="demo")
        publish_revision(db, exam, by=office, approved_by=director)
        checked = verify(db, exam)
        if not checked.ok:
            raise RuntimeError("ledger verification failed: " + "; ".join(checked.problems))


@contextmanager
def _timed(summary: Summary, name: str) -> Iterator[None]:
    """Time a stage of the flow into the summary."""
    start = time.perf_counter()
    yield
    summary.timings.append((name, time.perf_counter() - start))


def _write_inputs(
    folder: Path,
    people: list[synthetic.SyntheticCandidate],
    questions: list[synthetic.PaperQuestion],
    examiners: list[str],
    *,
    level: int,
    seed: int,
    rng: random.Random,
) -> None:
    """The office's files: two batches, conflicts, violations and (level 2) interview scores."""
    half = len(people) // 2
    for i, part in enumerate((people[:half], people[half:]), start=1):
        synthetic.write_batch(
            folder / f"batch-{i}", part, questions, seed=seed + i, image_rate=0.05
        )
    declared = [(rng.choice(examiners), p) for p in rng.sample(people, 2)]
    _write(
        folder / "conflicts.csv",
        ("username", "id_number", "relation"),
        [(u, p.id_number, "relative") for u, p in declared],
    )
    _write(
        folder / "violations.csv",
        ("exam_no", "component", "action", "reason", "decided_by", "collective"),
        [
            (people[3].exam_no, "theory", "warning", "考试中交头接耳", examiners[0], ""),
            (people[7].exam_no, "skills", "void", "携带违禁资料", examiners[0], ""),
            # A collective decision (第七条(五)): the guidance centre approves it.
            *(
                (p.exam_no, "skills", "terminated", "集体传递答案", examiners[0], "G1")
                for p in people[8:10]
            ),
        ],
    )
    if level <= 2:
        _write_interview(folder, people, examiners, declared, rng)


def _write_interview(
    folder: Path,
    people: list[synthetic.SyntheticCandidate],
    examiners: list[str],
    declared: list[tuple[str, synthetic.SyntheticCandidate]],
    rng: random.Random,
) -> None:
    """Each candidate's panel: three of the senior examiners, none with a declared conflict
    with the candidate (R7, R10); a few candidates absent from the interview, so recorded."""
    conflicted = {(u, p.exam_no) for u, p in declared}
    scores, absent = [], []
    for p in people:
        if rng.random() <= 0.03:
            absent.append((p.exam_no, "未参加面试"))
            continue
        panel = [u for u in examiners if (u, p.exam_no) not in conflicted][:3]
        scores += [(p.exam_no, u, str(max(0, min(100, round(rng.gauss(68, 12)))))) for u in panel]
    _write(folder / "interview.csv", ("exam_no", "username", "score"), scores)
    _write(folder / "interview-absent.csv", ("exam_no", "reason"), absent)


def _create(db: Session, folder: Path, toml_text: str, custody: str) -> None:
    """The session from its definition, its key (one key file or 2-of-3 shares), conflicts."""
    exam = create_session(db, parse_session_definition(toml_text), source=toml_text, actor=ACTOR)
    if custody == "key_file":
        init_keys(
            db, exam, actor=ACTOR, key_file=folder / "session.key", passphrase=DEMO_PASSPHRASE
        )
    else:
        init_keys(db, exam, actor=ACTOR, custodians=3, threshold=2, out_dir=folder / "shares")
    import_conflicts(db, folder / "conflicts.csv", actor=ACTOR, session=exam)


def _assign(db: Session, exam: ExamSession, examiners: list[str], lead: str) -> None:
    """Every group gets the examiners (the first names the lead); the lead approves each."""
    for n, group in enumerate(exam.groups):
        assign(db, exam, group, examiners, actor=ACTOR, lead=lead if n == 0 else None)
    for group in exam.groups:
        approve_scheme(db, exam, get_group(db, exam, group.key), by=lead)


def _publish(
    db: Session,
    exam: ExamSession,
    folder: Path,
    custody: str,
    office: str,
    director: str,
    summary: Summary,
) -> None:
    """The key rebuilt as its custodians would (the key file, or two shares), the director's
    approval, then publication; its outcome and digests go into the summary."""
    assert exam.public_key is not None
    if custody == "key_file":
        key = open_key(
            key_file=folder / "session.key",
            passphrase=DEMO_PASSPHRASE,
            expected_public_key=exam.public_key,
        )
    else:
        shares = sorted((folder / "shares").glob("share-*.txt"))[:2]
        key = open_key(shares=shares, expected_public_key=exam.public_key)
    # R16: the director reviews the session as it stands and approves it first.
    approve_publication(db, exam, get_account(db, director), note="demo")
    published = publish(db, exam, by=office, approved_by=director, key=key)
    summary.outcomes = published.outcomes
    summary.results_sha256 = published.results_sha256
    summary.ledger_head = published.ledger_head


def _export_and_verify(db: Session, exam: ExamSession, folder: Path) -> None:
    """The published session's exports written, then its ledger checked."""
    columns, rows = exports.results_rows(db, exam)
    _write(folder / "results.csv", columns, rows, bom=True)
    _write(folder / "marks.csv", exports.MARKS_COLUMNS, exports.marks_rows(db, exam), bom=True)
    _write(folder / "finals.csv", exports.FINALS_COLUMNS, exports.finals_rows(db, exam), bom=True)
    checked = verify(db, exam)
    if not checked.ok:
        raise RuntimeError("ledger verification failed: " + "; ".join(checked.problems))


def _count_work(db: Session, exam: ExamSession, summary: Summary) -> None:
    """The summary's counts: candidates, responses, marks, third marks, arbitrations."""
    summary.candidates = sum(summary.outcomes.values())
    summary.responses = _count(
        db,
        select(func.count()).select_from(Response).join(Script).where(Script.session_id == exam.id),
    )
    summary.subjective = _count(
        db,
        select(func.count())
        .select_from(Response)
        .join(Script)
        .where(Script.session_id == exam.id, Response.group_id.is_not(None)),
    )
    marks = (
        select(func.count())
        .select_from(Mark)
        .join(Response)
        .join(Script)
        .where(Script.session_id == exam.id)
    )
    summary.marks = _count(db, marks)
    summary.third_marks = _count(db, marks.where(Mark.kind == MarkKind.THIRD))
    summary.arbitrations = _count(
        db,
        select(func.count())
        .select_from(Arbitration)
        .join(Response)
        .join(Script)
        .where(Script.session_id == exam.id),
    )


def _count(db: Session, query: Select[Any]) -> int:
    return int(db.scalar(query) or 0)


def _write(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[str]], *, bom: bool = False
) -> None:
    """An input the demo takes in, or (``bom``) an export for a spreadsheet, cells made safe."""
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        if bom:
            cells.write_csv(fh, header, rows)
        else:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)


def _print_summary(s: Summary, echo: Callable[[str], None]) -> None:
    passed = s.outcomes.get("pass", 0)
    rate = 100 * passed / s.candidates if s.candidates else 0.0
    third = 100 * s.third_marks / s.subjective if s.subjective else 0.0
    echo(f"== {s.code} (level {s.level}) ==")
    echo(
        f"  candidates {s.candidates}, responses {s.responses} "
        f"({s.subjective} marked by examiners), marks {s.marks}"
    )
    echo(
        f"  third marks {s.third_marks} ({third:.1f}% of marked responses), "
        f"arbitrations {s.arbitrations}"
    )
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(s.outcomes.items()))
    echo(f"  outcomes: {outcomes}; pass rate {rate:.1f}%")
    echo(f"  results SHA-256 {s.results_sha256}")
    echo(f"  ledger head     {s.ledger_head}")
    echo("  seconds: " + ", ".join(f"{name} {sec:.2f}" for name, sec in s.timings))
    echo("")

"""Simulated examiners and lead: mark all open work through the real service functions.

Each simulated examiner has a severity (a constant lean) and a noise; each response a
latent quality drawn from the seed and its id. So marks disagree as real ones do: some
beyond tolerance (third marks), a few beyond reconciliation (arbitration). Named examiners
can be biased, erratic or drifting (``marking.demo.behaviour``), and where the session asks
for quality control the simulation plays the lead's part in it and marks the checks
(``marking.demo.standards``). Seeded: the examiners' leans, their turn order, each
mark's noise and where each claim starts in the queue; the queue's order itself is drawn
by the database at intake, so a run is reproducible on one database, not across intakes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.demo import quality, standards
from marking.demo.behaviour import (
    STEADY,
    Behaviour,
    SimulatedExaminer,
    SimulationReport,
    latent_quality,
    true_mark,
)
from marking.errors import MarkingError, NotFound
from marking.publication.preconditions import open_work
from marking.queue.claims import claim
from marking.queue.handback import flag
from marking.queue.lead import arbitrate, arbitration_tasks, open_anomalies, resolve_anomaly
from marking.queue.marks import submit_mark
from marking.setup.sessions import get_session
from marking.store.db import transaction
from marking.store.models import (
    Account,
    AnomalyKind,
    AnomalyResolution,
    Assignment,
    ExamSession,
    Mark,
    MarkKind,
    Question,
    Response,
    Script,
    SessionState,
)

__all__ = ["SimulatedExaminer", "SimulationReport", "simulate"]


def simulate(
    engine: Engine,
    code: str,
    *,
    seed: int = 1,
    batch: int = 20,
    flag_rate: float = 0.002,
    behaviours: Mapping[str, Behaviour] | None = None,
    echo: Callable[[str], None] | None = None,
    only: Collection[str] | None = None,
    until: Callable[[SimulationReport], bool] | None = None,
) -> SimulationReport:
    """Mark every open response of the session; the session's lead resolves what comes up
    and, where the session asks for them, builds qualification sets and seeds.

    ``behaviours``: username → how that examiner marks (``parse_behaviours``); the others
    are steady. ``only``: the examiners simulated (default all; the others are left alone).
    ``until``: stop after the first round (every turn and the lead's round) at whose end it
    holds, leaving the rest open and the session in marking (the web demo's live session,
    which stays in marking even when nothing is left). Raises NotFound (coded) for
    a username that is not an examiner of the session."""
    order = random.Random(seed)
    report = SimulationReport()
    examiners = _examiners(engine, code, order, behaviours or {})
    if only is not None:
        examiners = [sim for sim in examiners if sim.username in only]
    report.examiners = sorted(examiners, key=lambda sim: sim.username)
    run = _Run(seed, batch, flag_rate, order, random.Random(seed + 1), random.Random(seed + 2))
    _prepare(engine, code, seed, report)
    if _rounds(engine, code, examiners, run, report, until) and until is None:
        _finish(engine, code, report)
    if echo:
        _summary(report, echo)
    return report


@dataclass
class _Run:
    """A simulation's settings and random sources, each seeded from the run's seed."""

    seed: int
    batch: int
    flag_rate: float
    order: random.Random  # the examiners' severities and noises, then the turn order
    noise: random.Random  # each mark's noise (an erratic examiner's marks) and the flags
    picks: random.Random  # where each claim starts in the queue


def _rounds(
    engine: Engine,
    code: str,
    examiners: list[SimulatedExaminer],
    run: _Run,
    report: SimulationReport,
    until: Callable[[SimulationReport], bool] | None = None,
) -> bool:
    """Rounds of turns (in a seeded order) and lead rulings until nothing moves (or
    ``until`` holds after a round); False if the session is not (or no longer) open for
    marking."""
    while True:
        report.rounds += 1
        progress = False
        run.order.shuffle(examiners)
        for sim in examiners:
            with transaction(engine) as db:
                exam = get_session(db, code)
                if not exam.marking_open:  # in marking, or an appeal revision open
                    return False
                progress = _mark_turn(db, exam, sim, run, report) or progress
        lead_work = _lead_round(engine, code, run.seed, report)
        if (not progress and not lead_work) or (until is not None and until(report)):
            return True


def _summary(report: SimulationReport, echo: Callable[[str], None]) -> None:
    echo(
        f"simulated {report.marks} marks ({report.third_marks} third marks), "
        f"{report.flags} flags, {report.arbitrations} arbitrations in {report.rounds} rounds"
    )
    if report.items or report.checks:
        checks = ", ".join(f"{n} {purpose}" for purpose, n in sorted(report.checks.items()))
        echo(
            f"quality control: the lead made {report.items} qualification item(s) and "
            f"seed(s); checks marked: {checks or 'none'}; {report.qualified} qualified"
        )
    for who in report.unqualified:
        echo(f"  not qualified after {standards.QUALIFICATION_ATTEMPTS} attempts: {who}")
    for alarm in report.alarms:
        echo(
            f"  alarm {alarm.kind.value}: {alarm.examiner} in group {alarm.group} after "
            f"{alarm.seeds} seed(s), {alarm.marks} mark(s)"
        )
    for group in report.awaiting_approval:
        echo(
            f"group {group}: qualification set built; its scheme awaits the lead's approval "
            "(blindmark scheme approve), then simulate again"
        )


def _examiners(
    engine: Engine, code: str, rng: random.Random, behaviours: Mapping[str, Behaviour]
) -> list[SimulatedExaminer]:
    """The session's assigned examiners, each given a seeded severity and noise, and the
    behaviour named for them."""
    with transaction(engine) as db:
        exam = get_session(db, code)
        if exam.lead_id is None:
            raise ValueError(f"session {code} has no lead examiner to resolve anomalies")
        accounts = db.scalars(
            select(Account)
            .join(Assignment, Assignment.examiner_id == Account.id)
            .where(Assignment.session_id == exam.id)
            .distinct()
            .order_by(Account.username)
        ).all()
        known = [a.username for a in accounts]
        unknown = sorted(set(behaviours) - set(known))
        if unknown:
            raise NotFound.coded(
                "simulate_unknown_examiner",
                "%(user)s is not an examiner of session %(session)s (its examiners: %(known)s)",
                user=unknown[0],
                session=code,
                known=", ".join(known) or "none",
            )
        return [
            SimulatedExaminer(
                account_id=account.id,
                username=account.username,
                # Tuned so that about 5-15 % of double-marked responses need a third
                # mark and a few triple-marked ones need the lead (see the demo summary).
                severity=rng.gauss(0.0, 0.06),
                noise=rng.uniform(0.05, 0.09),
                behaviour=behaviours.get(account.username, STEADY),
            )
            for account in accounts
        ]


def _prepare(engine: Engine, code: str, seed: int, report: SimulationReport) -> None:
    """The simulated lead completes the qualification sets the session asks for."""
    with transaction(engine) as db:
        exam = get_session(db, code)
        lead = db.get(Account, exam.lead_id) if exam.lead_id is not None else None
        # Before the first approval (intake) too: a group's set must be complete before
        # its scheme can be approved.
        if lead is not None and exam.state in (SessionState.INTAKE, SessionState.MARKING):
            standards.build_qualification_sets(db, exam, lead, seed=seed, report=report)


def _mark_turn(
    db: Session,
    exam: ExamSession,
    sim: SimulatedExaminer,
    run: _Run,
    report: SimulationReport,
) -> bool:
    """One examiner's turn: any qualification they owe, then claim a batch and mark it
    (a few flagged; checks marked like the rest); False if nothing came."""
    account = db.get(Account, sim.account_id)
    assert account is not None
    seed, noise = run.seed, run.noise
    took = standards.take_qualification(db, exam, account, sim, seed=seed, rng=noise, report=report)
    try:
        claimed = claim(db, exam, account, size=run.batch, rng=run.picks)
    except MarkingError:  # no open group for this examiner (not approved yet)
        claimed = []
    for item in claimed:
        if quality.check_id(item) is not None:
            standards.mark_check(db, exam, account, sim, item, seed=seed, rng=noise, report=report)
            continue
        if noise.random() < run.flag_rate:
            flag(
                db,
                exam,
                account,
                response_id=item.response_id,
                kind=AnomalyKind.ILLEGIBLE,
                note="字迹无法辨认",
            )
            report.flags += 1
            continue
        value = sim.mark(latent_quality(seed, item.response_id), item.max, item.step, noise)
        submit_mark(db, exam, account, response_id=item.response_id, value=value)
        report.marks += 1
    return took or bool(claimed)


def _finish(engine: Engine, code: str, report: SimulationReport) -> None:
    """Nothing left open: the session is reconciled; else the report says what is stuck."""
    with transaction(engine) as db:
        exam = get_session(db, code)
        remaining = open_work(db, exam)
        if remaining:
            report.stuck = remaining
        elif exam.state is SessionState.MARKING:
            exam.state = SessionState.RECONCILED
            ledger.append(db, exam, kind="reconciled", actor="simulate", payload={})
        report.third_marks = _count_third(db, exam.id)


def _lead_round(engine: Engine, code: str, seed: int, report: SimulationReport) -> bool:
    """The simulated lead (and deputy lead, on what the lead is excluded from): arbitrate
    with the true mark; requeue or finalise flags; top up the seeds."""
    did = False
    with transaction(engine) as db:
        exam = get_session(db, code)
        rulers = [db.get(Account, i) for i in (exam.lead_id, exam.deputy_id) if i is not None]
        for ruler in rulers:
            assert ruler is not None
            did = _rule(db, exam, ruler, seed, report) or did
        lead = rulers[0] if exam.lead_id is not None else None
        if lead is not None:
            did = standards.add_seeds(db, exam, lead, seed=seed, report=report) or did
    return did


def _rule(
    db: Session, exam: ExamSession, ruler: Account, seed: int, report: SimulationReport
) -> bool:
    did = False
    for anomaly in open_anomalies(db, exam, ruler=ruler):
        did = True
        response = db.get(Response, anomaly.response_id)
        assert response is not None
        question = db.get(Question, response.question_id)
        assert question is not None
        if anomaly.id % 2:
            resolve_anomaly(
                db,
                exam,
                ruler,
                anomaly_id=anomaly.id,
                resolution=AnomalyResolution.REQUEUE,
                note="可以辨认，退回继续评阅",
            )
        else:
            value = true_mark(seed, response.id, question.max, question.step)
            resolve_anomaly(
                db,
                exam,
                ruler,
                anomaly_id=anomaly.id,
                resolution=AnomalyResolution.FINAL,
                note="组长直接评定",
                value=value,
            )
        report.resolved += 1
    while tasks := arbitration_tasks(db, exam, ruler=ruler, limit=200):
        for task in tasks:
            did = True
            value = true_mark(seed, task.response_id, task.max, task.step)
            arbitrate(
                db,
                exam,
                ruler,
                response_id=task.response_id,
                value=value,
                reason="仲裁",
            )
            report.arbitrations += 1
    return did


def _count_third(db: Session, session_id: int) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(Mark)
            .join(Response, Response.id == Mark.response_id)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == session_id, Mark.kind == MarkKind.THIRD)
        )
        or 0
    )

"""Simulated examiners and lead: mark all open work through the real service functions.

Each simulated examiner has a severity (a constant lean) and a noise; each response a
latent quality drawn from the seed and its id. So marks disagree as real ones do: some
beyond tolerance (third marks), a few beyond reconciliation (arbitration). Reproducible
for a seed, as far as the interleaving of examiners is (the order is seeded too).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError
from marking.publication.preconditions import open_work
from marking.quality.checks import submit_check
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


@dataclass
class SimulatedExaminer:
    account_id: int
    username: str
    severity: float  # fraction of the question's maximum, added to every mark
    noise: float  # standard deviation, as a fraction of the maximum


@dataclass
class SimulationReport:
    marks: int = 0
    third_marks: int = 0
    flags: int = 0
    arbitrations: int = 0
    resolved: int = 0
    rounds: int = 0
    stuck: list[str] = field(default_factory=list)


def latent_quality(seed: int, response_id: int) -> float:
    """A response's true quality in [0, 1], the same for every examiner who sees it."""
    digest = hashlib.sha256(f"{seed}:{response_id}".encode()).digest()
    u: float = int.from_bytes(digest[:8], "big") / 2**64
    shaped: float = 0.25 + 0.75 * u**0.6
    return min(1.0, max(0.0, shaped))


def on_step(value: float, step: Decimal, maximum: Decimal) -> Decimal:
    steps = (Decimal(str(value)) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return min(maximum, max(Decimal(0), steps * step))


def simulate(
    engine: Engine,
    code: str,
    *,
    seed: int = 1,
    batch: int = 20,
    flag_rate: float = 0.002,
    echo: Callable[[str], None] | None = None,
) -> SimulationReport:
    """Mark every open response of the session; the session's lead resolves what comes up."""
    rng = random.Random(seed)
    report = SimulationReport()
    examiners = _examiners(engine, code, rng)
    noise = random.Random(seed + 1)
    while True:
        report.rounds += 1
        progress = False
        rng.shuffle(examiners)
        for sim in examiners:
            with transaction(engine) as db:
                exam = get_session(db, code)
                if not exam.marking_open:  # in marking, or an appeal revision open
                    return report
                took = _mark_turn(
                    db,
                    exam,
                    sim,
                    seed=seed,
                    batch=batch,
                    flag_rate=flag_rate,
                    noise=noise,
                    report=report,
                )
                progress = took or progress
        lead_work = _lead_round(engine, code, seed, report)
        if not progress and not lead_work:
            break
    _finish(engine, code, report)
    if echo:
        echo(
            f"simulated {report.marks} marks ({report.third_marks} third marks), "
            f"{report.flags} flags, {report.arbitrations} arbitrations in {report.rounds} rounds"
        )
    return report


def _examiners(engine: Engine, code: str, rng: random.Random) -> list[SimulatedExaminer]:
    """The session's assigned examiners, each given a seeded severity and noise."""
    with transaction(engine) as db:
        exam = get_session(db, code)
        if exam.lead_id is None:
            raise ValueError(f"session {code} has no lead examiner to resolve anomalies")
        return [
            SimulatedExaminer(
                account_id=account.id,
                username=account.username,
                # Tuned so that about 5-15 % of double-marked responses need a third
                # mark and a few triple-marked ones need the lead (see the demo summary).
                severity=rng.gauss(0.0, 0.06),
                noise=rng.uniform(0.05, 0.09),
            )
            for account in db.scalars(
                select(Account)
                .join(Assignment, Assignment.examiner_id == Account.id)
                .where(Assignment.session_id == exam.id)
                .distinct()
                .order_by(Account.username)
            )
        ]


def _mark_turn(
    db: Session,
    exam: ExamSession,
    sim: SimulatedExaminer,
    *,
    seed: int,
    batch: int,
    flag_rate: float,
    noise: random.Random,
    report: SimulationReport,
) -> bool:
    """One examiner's turn: claim a batch and mark it (a few flagged); False if none came."""
    account = db.get(Account, sim.account_id)
    assert account is not None
    try:
        claimed = claim(db, exam, account, size=batch)
    except MarkingError:  # no open group for this examiner (not approved yet)
        claimed = []
    for item in claimed:
        if item.check_id is not None:
            # A seed or 回评 (DESIGN §13): marked as any response, through submit_check.
            q = latent_quality(seed, item.response_id)
            raw = float(item.max) * (q + sim.severity + noise.gauss(0.0, sim.noise))
            value = on_step(raw, item.step, item.max)
            submit_check(db, exam, account, check_id=item.check_id, value=value)
            continue
        if noise.random() < flag_rate:
            flag(
                db,
                exam,
                account,
                response_id=item.response_id,
                kind=AnomalyKind.ILLEGIBLE,
                note="字迹无法辨认 (simulated)",
            )
            report.flags += 1
            continue
        q = latent_quality(seed, item.response_id)
        raw = float(item.max) * (q + sim.severity + noise.gauss(0.0, sim.noise))
        value = on_step(raw, item.step, item.max)
        submit_mark(db, exam, account, response_id=item.response_id, value=value)
        report.marks += 1
    return bool(claimed)


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
    with the true mark; requeue or finalise flags."""
    did = False
    with transaction(engine) as db:
        exam = get_session(db, code)
        rulers = [db.get(Account, i) for i in (exam.lead_id, exam.deputy_id) if i is not None]
        for ruler in rulers:
            assert ruler is not None
            did = _rule(db, exam, ruler, seed, report) or did
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
                note="可以辨认，退回继续评阅 (simulated)",
            )
        else:
            value = on_step(
                float(question.max) * latent_quality(seed, response.id),
                question.step,
                question.max,
            )
            resolve_anomaly(
                db,
                exam,
                ruler,
                anomaly_id=anomaly.id,
                resolution=AnomalyResolution.FINAL,
                note="组长直接评定 (simulated)",
                value=value,
            )
        report.resolved += 1
    while tasks := arbitration_tasks(db, exam, ruler=ruler, limit=200):
        for task in tasks:
            did = True
            value = on_step(
                float(task.max) * latent_quality(seed, task.response_id), task.step, task.max
            )
            arbitrate(
                db,
                exam,
                ruler,
                response_id=task.response_id,
                value=value,
                reason="仲裁 (simulated)",
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

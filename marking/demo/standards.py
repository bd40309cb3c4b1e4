"""The simulation's part in quality control (DESIGN §13): the simulated lead builds each
group's qualification set and, as responses are completed, its seeds, with the true marks
as the definitive ones; the simulated examiners take the qualification and mark the checks
that arrive in their claims; every alarm raised is noted in the report.

All calls into the quality services go through ``marking.demo.quality``; without them
(a build before issue 13's services) this module does nothing.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from marking.demo import quality
from marking.demo.behaviour import (
    RaisedAlarm,
    SeedRecord,
    SimulatedExaminer,
    SimulationReport,
    latent_quality,
    true_mark,
)
from marking.errors import MarkingError
from marking.queue.claims import Claimed
from marking.store.models import (
    Account,
    Assignment,
    CheckItem,
    CheckPurpose,
    ExamSession,
    Exclusion,
    MarkingGroup,
    Question,
    Response,
    ResponseState,
    SessionState,
)

# A simulated examiner who fails the qualification this many times stops trying (the lead
# would talk to them, or override; the simulation leaves the group to the others).
QUALIFICATION_ATTEMPTS = 3
# Seeds a group keeps beyond what its examiners' schedules use up, so each examiner finds
# seeds they did not mark themselves.
SEED_MARGIN = 5


def seeds_wanted(rate: Decimal, responses: int, marks_required: int, examiners: int) -> int:
    """Seeds the simulated lead keeps in a group: each examiner meets one in every 1/rate of
    their ≈ responses × marks_required / examiners live responses, and may be shown only
    seeds they did not mark (≈ (examiners − marks_required) / examiners of them), so
    rate × responses × marks_required / (examiners − marks_required), plus a margin."""
    if rate <= 0 or responses == 0:
        return 0
    spare = max(1, examiners - marks_required)
    return math.ceil(float(rate) * responses * marks_required / spare) + SEED_MARGIN


def build_qualification_sets(
    db: Session, exam: ExamSession, lead: Account, *, seed: int, report: SimulationReport
) -> None:
    """Complete each group's qualification set (session.toml ``qualification``) with
    responses picked at random (seeded), each with its true mark."""
    for group in exam.groups:
        if group.qualification_size is None:
            continue
        need = group.qualification_size - _active(db, group, CheckPurpose.QUALIFICATION)
        if need <= 0:
            continue
        pool = _pickable(db, exam, group, lead, final_only=False)
        rng = random.Random(f"{seed}:qualification:{group.key}")
        for response_id in rng.sample(pool, min(need, len(pool))):
            _add(db, exam, lead, response_id, CheckPurpose.QUALIFICATION, seed)
            report.items += 1
        if group.approved_at is None:
            report.awaiting_approval.append(group.key)


def add_seeds(
    db: Session, exam: ExamSession, lead: Account, *, seed: int, report: SimulationReport
) -> bool:
    """Top up each group's seeds (``seed_rate`` > 0) from its final responses, at random
    (seeded), each with its true mark; True if any was added. Only in marking: an appeal
    revision takes no new seeds."""
    if exam.state is not SessionState.MARKING:
        return False
    added = False
    for group in exam.groups:
        examiners = db.scalar(
            select(func.count()).where(
                Assignment.group_id == group.id, Assignment.suspended_at.is_(None)
            )
        )
        responses = db.scalar(select(func.count()).where(Response.group_id == group.id))
        wanted = seeds_wanted(group.seed_rate, responses or 0, group.marks_required, examiners or 0)
        have = _active(db, group, CheckPurpose.SEED)
        if have >= wanted:
            continue
        pool = _pickable(db, exam, group, lead, final_only=True)
        rng = random.Random(f"{seed}:seeds:{group.key}:{have}")
        for response_id in rng.sample(pool, min(wanted - have, len(pool))):
            _add(db, exam, lead, response_id, CheckPurpose.SEED, seed)
            report.items += 1
            added = True
    return added


def _active(db: Session, group: MarkingGroup, purpose: CheckPurpose) -> int:
    return (
        db.scalar(
            select(func.count()).where(
                CheckItem.group_id == group.id,
                CheckItem.purpose == purpose,
                CheckItem.retired_at.is_(None),
            )
        )
        or 0
    )


def _pickable(
    db: Session, exam: ExamSession, group: MarkingGroup, lead: Account, *, final_only: bool
) -> list[int]:
    """Responses of the group the lead may make items of: not an item yet, not of a
    script the lead is excluded from; for seeds, only final ones (all marks in) with a mark
    beyond the question's tolerance to give: a blank or near-blank answer shows no standard
    (and an examiner straying low could not stray from it)."""
    query = (
        select(Response.id)
        .where(
            Response.group_id == group.id,
            ~exists().where(CheckItem.response_id == Response.id),
            ~exists().where(
                Exclusion.script_id == Response.script_id, Exclusion.examiner_id == lead.id
            ),
        )
        .order_by(Response.id)
    )
    if final_only:
        query = query.join(Question, Question.id == Response.question_id).where(
            Response.state == ResponseState.FINAL, Response.final > Question.tolerance
        )
    return list(db.scalars(query))


def _add(
    db: Session,
    exam: ExamSession,
    lead: Account,
    response_id: int,
    purpose: CheckPurpose,
    seed: int,
) -> None:
    response = db.get(Response, response_id)
    assert response is not None
    question = db.get(Question, response.question_id)
    assert question is not None
    quality.add_item(
        db,
        exam,
        lead,
        response_id=response_id,
        purpose=purpose,
        value=true_mark(seed, response_id, question.max, question.step),
        note="模拟组长给定的标准分",
    )


def take_qualification(
    db: Session,
    exam: ExamSession,
    account: Account,
    sim: SimulatedExaminer,
    *,
    seed: int,
    rng: random.Random,
    report: SimulationReport,
) -> bool:
    """The examiner takes the qualification of each of their groups that asks for one and
    that they have not passed (again after a fail, up to QUALIFICATION_ATTEMPTS); True if
    they took any."""
    took = False
    waiting = db.scalars(
        select(MarkingGroup)
        .join(Assignment, Assignment.group_id == MarkingGroup.id)
        .where(
            Assignment.examiner_id == account.id,
            Assignment.session_id == exam.id,
            Assignment.suspended_at.is_(None),
            Assignment.qualified_at.is_(None),
            MarkingGroup.qualification_size.is_not(None),
            MarkingGroup.approved_at.is_not(None),
        )
        .order_by(MarkingGroup.id)
    ).all()
    for group in waiting:
        if group.id in sim.settled:
            continue
        state = quality.qualification_state(db, exam, account, group)
        if state.qualified:
            sim.settled.add(group.id)
            continue
        if not state.open and state.attempt >= QUALIFICATION_ATTEMPTS:
            sim.settled.add(group.id)
            report.unqualified.append(f"{sim.username}/{group.key}")
            continue
        try:
            attempt = quality.start_qualification(db, exam, account, group=group)
        except MarkingError:  # the set is not complete (yet): nothing to take
            continue
        for item in attempt:
            mark_check(db, exam, account, sim, item, seed=seed, rng=rng, report=report)
            took = True
        if quality.qualification_state(db, exam, account, group).qualified:
            sim.settled.add(group.id)
            report.qualified += 1
    return took


def mark_check(
    db: Session,
    exam: ExamSession,
    account: Account,
    sim: SimulatedExaminer,
    item: Claimed,
    *,
    seed: int,
    rng: random.Random,
    report: SimulationReport,
) -> None:
    """The examiner marks a check as they mark anything (they cannot tell); a seed is
    recorded, with any alarm it raised."""
    check_id = quality.check_id(item)
    assert check_id is not None
    check = quality.check_mark(db, check_id)
    made = sim.made
    value = sim.mark(latent_quality(seed, check.response_id), item.max, item.step, rng)
    quality.submit_check(db, exam, account, check_id=check_id, value=value)
    purpose = check.purpose.value
    report.checks[purpose] = report.checks.get(purpose, 0) + 1
    if check.purpose is not CheckPurpose.SEED:
        return
    group = db.get(MarkingGroup, check.group_id)
    assert group is not None
    sim.seeds.append(SeedRecord(group.key, made, check.expected, value))
    for alarm in quality.alarms_since(
        db, examiner_id=account.id, group_id=group.id, after_id=sim.last_alarm
    ):
        sim.last_alarm = alarm.id
        seeds = sum(1 for s in sim.seeds if s.group == group.key)
        report.alarms.append(RaisedAlarm(sim.username, group.key, alarm.kind, seeds, sim.made))

"""A tiny session marked at known times for the monitoring tests (integration and web)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.queue.claims import claim
from marking.queue.marks import submit_mark
from marking.store.models import Assignment, ExamSession
from marking.store.models.checks import (
    AlarmKind,
    CheckAlarm,
    CheckMark,
    CheckPurpose,
    CheckState,
)
from tests.integration import factory as f
from tests.integration.marking_helpers import account

# In the past: figures computed now come after everything marked here.
T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
# (text, examiner) -> mark. Short answer (theory 2): max 6, step 0.5, tolerance 1;
# practical (skills 2): max 8. c1 theory: 2 and 4 disagree beyond tolerance -> e3 thirds.
VALUES = {
    ("c1 theory", "e1"): "2",
    ("c2 theory", "e1"): "6",
    ("c1 skills", "e1"): "0",
    ("c2 skills", "e1"): "4",
    ("c1 theory", "e2"): "4",
    ("c2 theory", "e2"): "6",
    ("c1 skills", "e2"): "0",
    ("c2 skills", "e2"): "4",
    ("c1 theory", "e3"): "3",
}


def mark_at(db: Session, exam: ExamSession, username: str, start: int, gaps: list[int]) -> None:
    """``username`` claims at T0+start and marks what they got one after another, each
    ``gaps[i]`` seconds after the previous one."""
    who = account(db, username)
    now = T0 + dt.timedelta(seconds=start)
    items = claim(db, exam, who, size=10, now=now)
    assert len(items) == len(gaps), (username, [i.text for i in items])
    for item, gap in zip(items, gaps, strict=True):
        now += dt.timedelta(seconds=gap)
        value = Decimal(VALUES[(item.text, username)])
        submit_mark(db, exam, who, response_id=item.response_id, value=value, now=now)


def check(
    db: Session,
    exam: ExamSession,
    username: str,
    purpose: CheckPurpose,
    expected: str,
    given: str,
    at: int,
    text: str = "c2 theory",
) -> None:
    group = next(g for g in exam.groups if g.key == "short")
    db.add(
        CheckMark(
            session_id=exam.id,
            group_id=group.id,
            examiner_id=account(db, username).id,
            purpose=purpose,
            response_id=f.response_id(db, exam, text),
            expected=Decimal(expected),
            value=Decimal(given),
            state=CheckState.SUBMITTED,
            claimed_at=T0 + dt.timedelta(seconds=at),
            expires_at=T0 + dt.timedelta(seconds=at + 3600),
            submitted_at=T0 + dt.timedelta(seconds=at + 5),
        )
    )


def build(db: Session, tmp_path: Path, code: str = "MON-1") -> ExamSession:
    """The tiny paper with 2 candidates marked by e1, e2 (and e3 thirding c1 theory) at
    known times; seeds and 回评 for e1 and e2; alarms; prac qualifying and a suspension."""
    exam = f.tiny_session(db, tmp_path, code, n=2).exam
    mark_at(db, exam, "e1", 0, [10, 10, 10, 10])
    mark_at(db, exam, "e2", 100, [10, 10, 10, 10])
    mark_at(db, exam, "e3", 200, [3])  # the third mark on c1 theory, in 3 s: fast
    check(db, exam, "e1", CheckPurpose.SEED, "3", "3", 300)
    check(db, exam, "e1", CheckPurpose.SEED, "3", "5", 310, "c1 theory")
    check(db, exam, "e1", CheckPurpose.REMARK, "2", "2.5", 320)
    check(db, exam, "e2", CheckPurpose.REMARK, "4", "6", 330)
    check(db, exam, "e1", CheckPurpose.QUALIFICATION, "1", "6", 340)  # not a live figure
    short = next(g for g in exam.groups if g.key == "short")
    prac = next(g for g in exam.groups if g.key == "prac")
    for kind, who, closed in (
        (AlarmKind.SEEDS_OFF, "e2", None),
        (AlarmKind.SEED_BIAS, "e2", None),
        (AlarmKind.SEED_BIAS, "e1", T0),
    ):
        db.add(
            CheckAlarm(
                session_id=exam.id,
                group_id=short.id,
                examiner_id=account(db, who).id,
                kind=kind,
                evidence={},
                closed_at=closed,
            )
        )
    prac.qualification_size = 5
    rows = {
        a.examiner_id: a
        for a in db.scalars(select(Assignment).where(Assignment.group_id == prac.id))
    }
    rows[account(db, "e1").id].qualified_at = T0
    rows[account(db, "e3").id].suspended_at = T0
    db.flush()
    return exam

"""Putting examiners on marking groups (R9, R10, R11) and opening groups for marking (R5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError, NotFound, StateError
from marking.people.accounts import get_account
from marking.store.models import (
    Account,
    Assignment,
    Examiner,
    ExamSession,
    Grade,
    MarkingGroup,
    Role,
    SessionState,
    utcnow,
)

#: R10: no more than three consecutive sessions at the same station.
MAX_CONSECUTIVE = 3
WRITABLE = (SessionState.DRAFT, SessionState.INTAKE, SessionState.MARKING)


@dataclass
class AssignResult:
    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def get_group(db: Session, exam: ExamSession, key: str) -> MarkingGroup:
    group = db.scalar(
        select(MarkingGroup).where(MarkingGroup.session_id == exam.id, MarkingGroup.key == key)
    )
    if group is None:
        keys = ", ".join(g.key for g in exam.groups) or "none"
        raise NotFound(f"session {exam.code} has no marking group {key!r} (groups: {keys})")
    return group


def _qualification_problem(examiner: Examiner, exam: ExamSession) -> str | None:
    """Why this examiner may not assess this session (R9, R11), or None."""
    if examiner.certificate_expires < exam.date:
        return (
            f"certificate {examiner.certificate_no} expired on "
            f"{examiner.certificate_expires.isoformat()}, before the session date "
            f"{exam.date.isoformat()} (R11)"
        )
    if not any(
        s.occupation_code == exam.occupation_code and s.level == exam.level for s in examiner.scopes
    ):
        scopes = ", ".join(f"{s.occupation_code}:{s.level}" for s in examiner.scopes) or "none"
        return (
            f"certificate scope ({scopes}) does not cover {exam.occupation_code} "
            f"level {exam.level} (R9)"
        )
    return None


def _station_history(db: Session, exam: ExamSession) -> list[ExamSession]:
    """Earlier sessions at this station, newest first."""
    return list(
        db.scalars(
            select(ExamSession)
            .where(
                ExamSession.station == exam.station,
                ExamSession.id != exam.id,
                (ExamSession.date < exam.date)
                | ((ExamSession.date == exam.date) & (ExamSession.id < exam.id)),
            )
            .order_by(ExamSession.date.desc(), ExamSession.id.desc())
        )
    )


def _team(db: Session, exam: ExamSession) -> set[int]:
    return set(db.scalars(select(Assignment.examiner_id).where(Assignment.session_id == exam.id)))


def assign(
    db: Session,
    exam: ExamSession,
    group: MarkingGroup,
    usernames: Sequence[str],
    *,
    actor: str,
    lead: str | None = None,
) -> AssignResult:
    """Assign examiners to a group and optionally name the session's lead.

    Refuses (MarkingError, naming each examiner and the reason, nothing assigned) an
    examiner whose certificate has expired by the session date or does not cover the
    session's occupation and level (R9, R11), or who would serve a fourth consecutive
    session at this station (R10). Warns when fewer than a third of the team changed
    since the station's previous session (R10's rotation).
    """
    # While an appeal revision is open, more examiners may join a group: its responses
    # need examiners who did not mark them before (marking/publication/revisions.py).
    if exam.state not in WRITABLE and exam.open_revision is None:
        raise StateError(f"session {exam.code} is {exam.state.value}: assignments are closed")
    result = AssignResult()
    problems: list[str] = []
    history = _station_history(db, exam)
    examiners = _eligible_examiners(db, exam, usernames, history, problems)
    lead_account = _eligible_lead(db, exam, lead, problems) if lead is not None else None
    if problems:
        raise MarkingError("assignment refused:\n  " + "\n  ".join(problems))

    _store_assignments(db, exam, group, examiners, result, actor=actor)
    if lead_account is not None:
        exam.lead_id = lead_account.id
    db.flush()

    if history:
        _warn_rotation(db, exam, history[0], result)
    ledger.append(
        db,
        exam,
        kind="assignment",
        actor=actor,
        payload={
            "group": group.key,
            "added": result.added,
            "lead": lead_account.username if lead_account else None,
        },
    )
    return result


def _eligible_examiners(
    db: Session,
    exam: ExamSession,
    usernames: Sequence[str],
    history: list[ExamSession],
    problems: list[str],
) -> list[Examiner]:
    """The examiners who may serve (R9, R10, R11); why each other may not goes to ``problems``."""
    examiners: list[Examiner] = []
    for username in dict.fromkeys(usernames):
        account = db.scalar(select(Account).where(Account.username == username))
        if account is None or account.examiner is None:
            problems.append(f"{username}: no examiner with this username")
            continue
        if not account.active:
            problems.append(f"{username}: the account is disabled")
            continue
        examiner = account.examiner
        why = _qualification_problem(examiner, exam)
        if why:
            problems.append(f"{username}: {why}")
            continue
        streak = 0
        for earlier in history:
            if examiner.account_id in _team(db, earlier):
                streak += 1
            else:
                break
        if streak >= MAX_CONSECUTIVE:
            problems.append(
                f"{username}: would serve a {streak + 1}th consecutive session at station "
                f"{exam.station}; at most {MAX_CONSECUTIVE} (R10)"
            )
            continue
        examiners.append(examiner)
    return examiners


def _eligible_lead(db: Session, exam: ExamSession, lead: str, problems: list[str]) -> Account:
    """The lead's account; why it may not lead this session goes to ``problems``."""
    lead_account = get_account(db, lead)
    if not lead_account.active:
        problems.append(f"{lead}: the account is disabled")
    elif lead_account.role not in (Role.LEAD, Role.EXAMINER):
        problems.append(f"{lead}: a lead must be a lead or examiner account")
    elif lead_account.id == exam.deputy_id:
        problems.append(f"{lead}: is the session's deputy lead; name another deputy first")
    elif lead_account.examiner is not None:
        why = _qualification_problem(lead_account.examiner, exam)
        if why:
            problems.append(f"{lead} (lead): {why}")
    return lead_account


def _store_assignments(
    db: Session,
    exam: ExamSession,
    group: MarkingGroup,
    examiners: list[Examiner],
    result: AssignResult,
    *,
    actor: str,
) -> None:
    """Each examiner not yet on the group put on it, noted in ``result`` as added or already."""
    existing = set(
        db.scalars(select(Assignment.examiner_id).where(Assignment.group_id == group.id))
    )
    for examiner in examiners:
        if examiner.account_id in existing:
            result.already.append(examiner.account.username)
            continue
        db.add(
            Assignment(
                session_id=exam.id,
                group_id=group.id,
                examiner_id=examiner.account_id,
                created_by=actor,
            )
        )
        result.added.append(examiner.account.username)


def _warn_rotation(
    db: Session, exam: ExamSession, previous_session: ExamSession, result: AssignResult
) -> None:
    """R10's rotation: a warning when fewer than a third of the team is new at this station."""
    previous, current = _team(db, previous_session), _team(db, exam)
    if previous and current:
        new = len(current - previous)
        if 3 * new < len(current):
            result.warnings.append(
                f"only {new} of {len(current)} examiners are new since session "
                f"{previous_session.code} at this station; R10 asks that at least a third rotate"
            )


def name_deputy(db: Session, exam: ExamSession, username: str, *, actor: str) -> Account:
    """Name the session's deputy lead (DESIGN §14), who rules on the responses the lead is
    excluded from; naming another replaces the first, recorded.

    The deputy is another account than the lead, with the lead role or a senior
    examiner's, whose certificate (if any) covers the session. Raises MarkingError naming
    what is wrong, StateError once the session is published.
    """
    if exam.state not in (*WRITABLE, SessionState.RECONCILED):
        raise StateError(f"session {exam.code} is {exam.state.value}: assignments are closed")
    account = get_account(db, username)
    senior = account.examiner is not None and account.examiner.grade is Grade.SENIOR
    if not account.active:
        raise MarkingError(f"{username}: the account is disabled")
    if account.role is not Role.LEAD and not (account.role is Role.EXAMINER and senior):
        raise MarkingError(
            f"{username}: a deputy lead must be a lead account or a senior examiner (DESIGN §14)"
        )
    if account.id == exam.lead_id:
        raise MarkingError(
            f"{username} is the session's lead: the deputy must be another person, who rules "
            "where the lead may not"
        )
    if account.examiner is not None:
        why = _qualification_problem(account.examiner, exam)
        if why:
            raise MarkingError(f"{username} (deputy lead): {why}")
    exam.deputy_id = account.id
    db.flush()
    ledger.append(db, exam, kind="deputy_named", actor=actor, payload={"deputy": account.username})
    return account


def approve_scheme(
    db: Session, exam: ExamSession, group: MarkingGroup, *, by: str, now: dt.datetime | None = None
) -> None:
    """The lead approves a group's marking scheme: the group opens for marking (R5).

    The first approval moves the session to marking. Declarations waiting for an intake
    keep waiting: a batch taken in during marking is excluded from as any other.
    """
    if exam.state not in WRITABLE:
        raise StateError(f"session {exam.code} is {exam.state.value}: nothing to approve")
    account = get_account(db, by)
    if exam.lead_id is None:
        raise MarkingError.coded(
            "no_lead",
            "session %(session)s has no lead examiner: the office names one first",
            session=exam.code,
        )
    if account.id != exam.lead_id:
        raise MarkingError.coded(
            "not_the_lead",
            "only the session's lead examiner approves schemes; %(user)s is not",
            user=by,
        )
    if group.approved_at is not None:
        raise StateError(f"group {group.key} was already approved on {group.approved_at:%Y-%m-%d}")
    if not _team_of_group(db, group):
        raise MarkingError(f"group {group.key} has no examiners yet: assign some first")
    group.approved_by = account.id
    group.approved_at = now or utcnow()
    if exam.state is not SessionState.MARKING:
        if exam.state is SessionState.DRAFT:
            raise StateError(f"session {exam.code} has no intake yet")
        exam.state = SessionState.MARKING
    db.flush()
    ledger.append(
        db, exam, kind="scheme_approved", actor=account.username, payload={"group": group.key}
    )


def _team_of_group(db: Session, group: MarkingGroup) -> list[int]:
    return list(db.scalars(select(Assignment.examiner_id).where(Assignment.group_id == group.id)))

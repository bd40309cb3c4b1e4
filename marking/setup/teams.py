"""R10's team rules (第七条(四)): at least a third of a session's team rotates against the
station's previous session of the same occupation, and nobody serves more than three
consecutive sessions at one station; either may be overridden only by a director's
recorded decision with a reason (``TeamOverride``).

Only sessions that reached marking count (marking, reconciled, published): a draft, or a
session still taking in scripts, is neither a previous session nor a break in a streak;
nor is a session of another occupation. The team is every examiner assigned to a group
of the session and its lead. Consecutive service is checked as each member is named;
rotation is a property of the whole team, so it is judged when marking starts (the first
scheme approval) and on every change of the team after that; while the team is being
built the office sees it as a warning (``team_warnings``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError, NotFound, StateError
from marking.people.accounts import get_account, require_role
from marking.store.models import (
    Account,
    Assignment,
    ExamSession,
    Role,
    SessionState,
    TeamOverride,
    TeamRule,
    utcnow,
)

#: R10: no more than three consecutive sessions at the same station.
MAX_CONSECUTIVE = 3
#: The sessions that count: those that reached marking.
COUNTED = (SessionState.MARKING, SessionState.RECONCILED, SessionState.PUBLISHED)


def station_history(db: Session, exam: ExamSession) -> list[ExamSession]:
    """Earlier sessions of this occupation at this station that reached marking, newest
    first (by date, then creation)."""
    return list(
        db.scalars(
            select(ExamSession)
            .where(
                ExamSession.station == exam.station,
                ExamSession.occupation_code == exam.occupation_code,
                ExamSession.state.in_(COUNTED),
                ExamSession.id != exam.id,
                (ExamSession.date < exam.date)
                | ((ExamSession.date == exam.date) & (ExamSession.id < exam.id)),
            )
            .order_by(ExamSession.date.desc(), ExamSession.id.desc())
        )
    )


def assigned(db: Session, exam: ExamSession) -> set[int]:
    """The account ids of the examiners assigned to any group of the session."""
    return set(db.scalars(select(Assignment.examiner_id).where(Assignment.session_id == exam.id)))


def team(db: Session, exam: ExamSession) -> set[int]:
    """The account ids of the session's team: its examiners and its lead."""
    members = assigned(db, exam)
    if exam.lead_id is not None:
        members.add(exam.lead_id)
    return members


def overridden(db: Session, exam: ExamSession, rule: TeamRule, account_id: int | None) -> bool:
    """Whether a director let this session break ``rule``: for the whole team, or (with
    ``account_id``) for that member."""
    found = db.scalars(
        select(TeamOverride.examiner_id).where(
            TeamOverride.session_id == exam.id, TeamOverride.rule == rule
        )
    ).all()
    return any(e is None or e == account_id for e in found)


def consecutive_problem(
    db: Session, exam: ExamSession, account: Account, history: list[ExamSession]
) -> MarkingError | None:
    """The refusal when ``account`` would serve a fourth consecutive session at this
    station (same occupation), unless a director overrode it; None otherwise."""
    streak = 0
    for earlier in history:
        if account.id not in team(db, earlier):
            break
        streak += 1
    if streak < MAX_CONSECUTIVE or overridden(db, exam, TeamRule.CONSECUTIVE, account.id):
        return None
    return MarkingError.coded(
        "consecutive_sessions",
        "%(user)s: would serve a %(nth)dth consecutive session of %(occupation)s at station "
        "%(station)s; at most %(most)d (R10, 第七条(四)): choose another examiner, or ask a "
        "director to record an override",
        user=account.username,
        nth=streak + 1,
        occupation=exam.occupation_code,
        station=exam.station,
        most=MAX_CONSECUTIVE,
    )


def rotation_problem(
    db: Session, exam: ExamSession, members: set[int] | None = None
) -> MarkingError | None:
    """The refusal when fewer than a third of the team (``members``, default the session's
    team as it stands) is new against the station's previous session of this occupation,
    unless a director overrode it; None otherwise (or with no previous session)."""
    history = station_history(db, exam)
    if not history:
        return None
    previous_session = history[0]
    previous = team(db, previous_session)
    current = team(db, exam) if members is None else members
    if not previous or not current:
        return None
    new = len(current - previous)
    if 3 * new >= len(current) or overridden(db, exam, TeamRule.ROTATION, None):
        return None
    return MarkingError.coded(
        "rotation",
        "only %(new)d of the %(size)d members of the team (lead included) are new since "
        "session %(previous)s, the previous session of %(occupation)s at station "
        "%(station)s; at least a third must rotate (R10, 第七条(四)): change the team, or ask "
        "a director to record an override",
        new=new,
        size=len(current),
        previous=previous_session.code,
        occupation=exam.occupation_code,
        station=exam.station,
    )


def team_problems(
    db: Session, exam: ExamSession, members: Iterable[Account] | None = None
) -> list[MarkingError]:
    """Every R10 refusal the session's team (or ``members``) meets now: rotation, and each
    member's consecutive service. Empty when the team may mark."""
    history = station_history(db, exam)
    accounts = (
        list(members)
        if members is not None
        else [a for i in sorted(team(db, exam)) if (a := db.get(Account, i)) is not None]
    )
    problems = [p for a in accounts if (p := consecutive_problem(db, exam, a, history))]
    rotation = rotation_problem(db, exam, {a.id for a in accounts})
    return [*([rotation] if rotation else []), *problems]


def team_warnings(db: Session, exam: ExamSession) -> list[MarkingError]:
    """What the office sees while building a team: the refusals marking would meet."""
    if exam.state not in (SessionState.DRAFT, SessionState.INTAKE, SessionState.MARKING):
        return []
    return team_problems(db, exam)


def record_override(
    db: Session,
    exam: ExamSession,
    *,
    rule: TeamRule,
    director: str,
    reason: str,
    examiner: str | None = None,
) -> TeamOverride:
    """A director's decision to let the session's team break an R10 rule, with the reason:
    for one member (``examiner``) or the whole team. Recorded in the session's ledger.

    Raises MarkingError for an account that is not an active director, an empty reason, or
    an override of rotation for one examiner (rotation is the team's); NotFound for an
    unknown examiner; StateError once the session is reconciled or published.
    """
    if exam.state not in (SessionState.DRAFT, SessionState.INTAKE, SessionState.MARKING):
        raise StateError.coded(
            "team_closed",
            "session %(session)s is past marking: its team no longer changes",
            session=exam.code,
        )
    by = require_role(db, director, Role.DIRECTOR, what="overriding a team rule")
    if not reason.strip():
        raise MarkingError.coded("reason_needed", "give the reason, for the record")
    member: Account | None = None
    if examiner:
        if rule is TeamRule.ROTATION:
            raise MarkingError.coded(
                "rotation_is_the_teams",
                "rotation is a rule of the whole team: override it without naming an examiner",
            )
        member = get_account(db, examiner)
        if member.role not in (Role.EXAMINER, Role.LEAD):
            raise NotFound(f"no examiner or lead {examiner!r}")
    override = TeamOverride(
        session_id=exam.id,
        rule=rule,
        examiner_id=member.id if member else None,
        reason=reason.strip(),
        director=by.username,
        created_at=utcnow(),
    )
    db.add(override)
    db.flush()
    ledger.append(
        db,
        exam,
        kind="team_override",
        actor=by.username,
        payload={
            "rule": rule.value,
            "examiner": member.username if member else None,
            "reason": override.reason,
        },
    )
    return override


def overrides(db: Session, exam: ExamSession) -> list[TeamOverride]:
    """The session's recorded overrides, oldest first."""
    return list(
        db.scalars(
            select(TeamOverride)
            .where(TeamOverride.session_id == exam.id)
            .order_by(TeamOverride.created_at, TeamOverride.id)
        )
    )

"""Who may sit on an interview panel (R7, 第七条(九)): a senior examiner of the session's
occupation whose certificate is valid and covers the session (R9, R11; 第三条, 第七条(一)).
Checked when a score is entered and again when publication unseals it, where the panel
member's declared conflicts with the candidate are matched too (R10)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.errors import MarkingError
from marking.people.register import qualification_problem
from marking.store.models import Account, Examiner, ExamSession, Grade, Role, SessionState

#: The states in which interview scores and other records may still be entered.
OPEN_FOR_RECORDS = (
    SessionState.DRAFT,
    SessionState.INTAKE,
    SessionState.MARKING,
    SessionState.RECONCILED,
)


def panel_problem(exam: ExamSession, account: Account | None, username: str) -> MarkingError | None:
    """Why ``account`` (looked up as ``username``) may not score this session's interview,
    as a coded refusal naming the member; None when they may."""
    if account is None or account.role is not Role.EXAMINER or account.examiner is None:
        return MarkingError.coded(
            "panel_not_examiner", "%(member)s is not an examiner account", member=username
        )
    if not account.active:
        return MarkingError.coded(
            "panel_disabled", "%(member)s's account is disabled", member=username
        )
    if account.examiner.grade is not Grade.SENIOR:
        return MarkingError.coded(
            "panel_not_senior",
            "%(member)s is not a senior examiner: interview panels are senior examiners (R7)",
            member=username,
        )
    problem = qualification_problem(account.examiner, exam)
    if problem is not None:
        return MarkingError.coded(
            "panel_not_qualified",
            "%(member)s may not sit on this interview panel: %(problem)s",
            member=username,
            problem=problem,
        )
    return None


def require_panel_member(exam: ExamSession, account: Account) -> None:
    """Raises the coded refusal of ``panel_problem`` when ``account`` may not score here,
    and MarkingError when the session has no interview (levels 1-2 only)."""
    require_interview(exam)
    problem = panel_problem(exam, account, account.username)
    if problem is not None:
        raise problem


def require_interview(exam: ExamSession) -> None:
    if exam.level > 2:
        raise MarkingError.coded(
            "no_interview",
            "session %(session)s is level %(level)s: interviews belong to levels 1-2 (R7)",
            session=exam.code,
            level=exam.level,
        )


def panel_sessions(db: Session, account: Account) -> list[ExamSession]:
    """The sessions with an interview, not yet published, whose panel ``account`` may sit on."""
    if account.role is not Role.EXAMINER or account.examiner is None:
        return []
    sessions = db.scalars(
        select(ExamSession)
        .where(ExamSession.level <= 2, ExamSession.state.in_(OPEN_FOR_RECORDS))
        .order_by(ExamSession.date.desc(), ExamSession.code)
    )
    return [s for s in sessions if panel_problem(s, account, account.username) is None]


def panel_accounts(db: Session, usernames: set[str]) -> dict[str, Account]:
    """The accounts of these usernames that have an examiner record."""
    return {
        a.username: a
        for a in db.scalars(
            select(Account)
            .join(Examiner, Examiner.account_id == Account.id)
            .where(Account.username.in_(sorted(usernames)))
        )
    }

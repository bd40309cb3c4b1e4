"""Putting examiners on marking groups (R9, R10, R11) and opening groups for marking (R5).

The register's check (``marking.people.register.qualification_problem``) and R10's team
rules (``marking.setup.teams``) decide who may serve."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError, NotFound, Refusals, StateError
from marking.people.accounts import get_account
from marking.people.register import qualification_problem
from marking.queue.handback import release_held
from marking.setup import teams
from marking.store.models import (
    Account,
    Assignment,
    CheckMark,
    CheckPurpose,
    CheckState,
    Examiner,
    ExamSession,
    Grade,
    Mark,
    MarkingGroup,
    Response,
    Role,
    SessionState,
    utcnow,
)

WRITABLE = (SessionState.DRAFT, SessionState.INTAKE, SessionState.MARKING)
# The longest reason a withdrawn scheme approval may give (the form's maxlength too).
WITHDRAWAL_REASON_MAX = 500


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


def group_components(exam: ExamSession, group: MarkingGroup) -> list[str]:
    """The keys of the components whose questions the group marks (第七条(一)'s category)."""
    return [c.key for c in exam.components if any(q.group_id == group.id for q in c.questions)]


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

    Refuses (Refusals, naming each examiner and the reason, nothing assigned) an examiner
    the register does not let assess the group (``qualification_problem``: status, card,
    certificate on the session's date, scope with the group's components: R9, R11,
    第三条, 第六条(三), 第七条(一)), who would serve a fourth consecutive session of the
    occupation at this station (R10), a lead who is not a senior examiner covering the
    whole session (DESIGN §14); and, once marking has started, a change that leaves fewer
    than a third of the team new (R10's rotation) — unless a director overrode the rule
    (marking/setup/teams.py). Before marking, a rotation shortfall is a warning.
    """
    # While an appeal revision is open, more examiners may join a group: its responses
    # need examiners who did not mark them before (marking/publication/revisions.py).
    if exam.state not in WRITABLE and exam.open_revision is None:
        raise StateError(f"session {exam.code} is {exam.state.value}: assignments are closed")
    result = AssignResult()
    problems: list[MarkingError] = []
    history = teams.station_history(db, exam)
    examiners = _eligible_examiners(db, exam, group, usernames, history, problems)
    lead_account = _eligible_lead(db, exam, lead, history, problems) if lead else None
    if not problems and exam.state is SessionState.MARKING:
        leader = lead_account.id if lead_account is not None else exam.lead_id
        members = teams.assigned(db, exam) | {e.account_id for e in examiners}
        members |= {leader} if leader is not None else set()
        if why := teams.rotation_problem(db, exam, members):
            problems.append(why)
    if problems:
        raise Refusals("assignment refused", problems, code="assignment_refused")

    _store_assignments(db, exam, group, examiners, result, actor=actor)
    if lead_account is not None:
        exam.lead_id = lead_account.id
    db.flush()

    if exam.state is not SessionState.MARKING:
        result.warnings = [str(w) for w in teams.team_warnings(db, exam)]
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
    group: MarkingGroup,
    usernames: Sequence[str],
    history: list[ExamSession],
    problems: list[MarkingError],
) -> list[Examiner]:
    """The examiners who may serve on the group; why each other may not goes to ``problems``."""
    examiners: list[Examiner] = []
    keys = group_components(exam, group)
    for username in dict.fromkeys(usernames):
        account = db.scalar(select(Account).where(Account.username == username))
        if account is None or account.examiner is None:
            problems.append(
                MarkingError.coded(
                    "no_examiner", "%(user)s: no examiner with this username", user=username
                )
            )
            continue
        if not account.active:
            problems.append(_disabled(username))
            continue
        why = qualification_problem(account.examiner, exam, components=keys)
        why = why or teams.consecutive_problem(db, exam, account, history)
        if why:
            problems.append(why)
            continue
        examiners.append(account.examiner)
    return examiners


def _disabled(username: str) -> MarkingError:
    return MarkingError.coded(
        "account_disabled", "%(user)s: the account is disabled", user=username
    )


def lead_problem(
    db: Session, exam: ExamSession, account: Account, *, role: str = "lead"
) -> MarkingError | None:
    """Why ``account`` may not lead (or deputise for, ``role="deputy"``) the session, or
    None: an active lead or examiner account holding a senior examiner's certificate that
    covers the session, every component of it (DESIGN §14, R14, 第七条(一))."""
    username = account.username
    if not account.active:
        return _disabled(username)
    if account.role not in (Role.LEAD, Role.EXAMINER):
        return MarkingError.coded(
            "lead_role",
            "%(user)s: a lead or deputy lead must be a lead or examiner account",
            user=username,
        )
    examiner = account.examiner
    if (examiner is None or examiner.grade is not Grade.SENIOR) and role == "lead":
        return MarkingError.coded(
            "lead_not_senior",
            "%(user)s: the lead must be a senior examiner whose certificate covers the "
            "session (DESIGN §14); import the certificate with examiners.csv (grade senior)",
            user=username,
        )
    if examiner is None or examiner.grade is not Grade.SENIOR:
        return MarkingError.coded(
            "deputy_not_senior",
            "%(user)s: the deputy lead must be a senior examiner whose certificate covers the "
            "session (DESIGN §14); import the certificate with examiners.csv (grade senior)",
            user=username,
        )
    return qualification_problem(examiner, exam, components=[c.key for c in exam.components])


def _eligible_lead(
    db: Session,
    exam: ExamSession,
    lead: str,
    history: list[ExamSession],
    problems: list[MarkingError],
) -> Account:
    """The lead's account; why it may not lead this session goes to ``problems``."""
    lead_account = get_account(db, lead)
    if lead_account.id == exam.deputy_id:
        problems.append(
            MarkingError.coded(
                "lead_is_deputy",
                "%(user)s: is the session's deputy lead; name another deputy first",
                user=lead,
            )
        )
    elif why := lead_problem(db, exam, lead_account) or teams.consecutive_problem(
        db, exam, lead_account, history
    ):
        problems.append(why)
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


def unassign(
    db: Session, exam: ExamSession, group: MarkingGroup, username: str, *, actor: str
) -> None:
    """Take an examiner off a group before marking starts, recorded in the ledger.

    Raises StateError once the session is marking (the lead suspends instead: R6 keeps
    what was done), NotFound when the examiner is not on the group, and MarkingError when
    they have qualified on it or been handed work there (their record stays).
    """
    if exam.state not in (SessionState.DRAFT, SessionState.INTAKE):
        raise StateError.coded(
            "unassign_marking",
            "session %(session)s is %(state)s: an examiner is taken off a group only before "
            "marking starts; the lead suspends them instead",
            session=exam.code,
            state=exam.state.value,
        )
    account = get_account(db, username)
    row = db.scalar(
        select(Assignment).where(
            Assignment.group_id == group.id, Assignment.examiner_id == account.id
        )
    )
    if row is None:
        raise NotFound.coded(
            "unassign_not_on_group",
            "%(user)s is not on group %(group)s",
            user=username,
            group=group.name,
        )
    if row.qualified_at is not None or row.handed:
        raise MarkingError.coded(
            "unassign_started",
            "%(user)s has started on group %(group)s: the lead suspends them instead",
            user=username,
            group=group.name,
        )
    db.delete(row)
    db.flush()
    ledger.append(
        db,
        exam,
        kind="unassignment",
        actor=actor,
        payload={"group": group.key, "removed": username},
    )


def name_deputy(db: Session, exam: ExamSession, username: str, *, actor: str) -> Account:
    """Name the session's deputy lead (DESIGN §14), who rules on the responses the lead is
    excluded from; naming another replaces the first, recorded.

    The deputy is another account than the lead, a lead or examiner account holding a
    senior examiner's certificate that covers the session (``lead_problem``). Raises
    MarkingError naming what is wrong, StateError once the session is published.
    """
    if exam.state not in (*WRITABLE, SessionState.RECONCILED):
        raise StateError(f"session {exam.code} is {exam.state.value}: assignments are closed")
    account = get_account(db, username)
    if account.id == exam.lead_id:
        raise MarkingError(
            f"{username} is the session's lead: the deputy must be another person, who rules "
            "where the lead may not"
        )
    if why := lead_problem(db, exam, account, role="deputy"):
        raise why
    exam.deputy_id = account.id
    db.flush()
    ledger.append(db, exam, kind="deputy_named", actor=actor, payload={"deputy": account.username})
    return account


def approve_scheme(
    db: Session, exam: ExamSession, group: MarkingGroup, *, by: str, now: dt.datetime | None = None
) -> None:
    """The lead approves a group's marking scheme: the group opens for marking (R5).

    The first approval moves the session to marking; it is refused (Refusals, code
    ``team_refused``) while the team breaks R10 (rotation below a third, a fourth
    consecutive session: marking/setup/teams.py) without a director's override, each
    refusal saying what to do. Declarations waiting for an intake keep waiting: a batch
    taken in during marking is excluded from as any other.
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
    if exam.state is SessionState.DRAFT:
        raise StateError(f"session {exam.code} has no intake yet")
    from marking.quality.qualification import set_problem

    if (incomplete := set_problem(db, group)) is not None:
        raise incomplete  # R5: no examiner could qualify, so no one could mark live
    if exam.state is not SessionState.MARKING and (problems := teams.team_problems(db, exam)):
        raise Refusals(
            f"marking of session {exam.code} cannot start with this team (R10)",
            problems,
            code="team_refused",
        )
    group.approved_by = account.id
    group.approved_at = now or utcnow()
    exam.state = SessionState.MARKING
    db.flush()
    ledger.append(
        db, exam, kind="scheme_approved", actor=account.username, payload={"group": group.key}
    )


def withdraw_scheme_approval(
    db: Session, exam: ExamSession, group: MarkingGroup, *, by: str, reason: str
) -> int:
    """The lead takes a group's scheme approval back while nothing of the group is marked
    (a mistake in the reference answer found in time): the group closes for marking, what
    examiners hold of it goes back unmarked, recorded in the ledger. A session left with
    no approved group goes back to intake, so its next approval checks the team again.

    Raises StateError outside draft/intake/marking or when the group is not approved,
    MarkingError (codes ``scheme_withdrawal_reason``, ``scheme_withdrawal_reason_long``)
    without a reason or with one over WITHDRAWAL_REASON_MAX characters, MarkingError (code
    ``not_the_lead``) for anyone but the lead, and MarkingError (code
    ``scheme_marked``) once anything of the group is marked: a change then is a
    correction, not a new scheme. Returns how many held items went back."""
    if exam.state not in WRITABLE:
        raise StateError(f"session {exam.code} is {exam.state.value}: nothing to withdraw")
    account = get_account(db, by)
    if account.id != exam.lead_id:
        raise MarkingError.coded(
            "not_the_lead",
            "only the session's lead examiner approves schemes; %(user)s is not",
            user=by,
        )
    if group.approved_at is None:
        raise StateError.coded(
            "scheme_not_approved",
            "the scheme of group %(group)s is not approved: there is nothing to withdraw",
            group=group.name,
        )
    reason = reason.strip()
    if not reason:
        raise MarkingError.coded(
            "scheme_withdrawal_reason", "a withdrawn scheme approval needs a reason, for the record"
        )
    if len(reason) > WITHDRAWAL_REASON_MAX:
        # Refused rather than cut: the ledger keeps the reason as the lead gave it.
        raise MarkingError.coded(
            "scheme_withdrawal_reason_long",
            "the reason has %(length)s characters; at most %(max)s",
            length=len(reason),
            max=WITHDRAWAL_REASON_MAX,
        )
    if count := marked_in(db, group):
        raise MarkingError.coded(
            "scheme_marked",
            "group %(group)s has %(count)s mark(s) already: its scheme approval stays; a "
            "change now is a correction (R6)",
            group=group.name,
            count=count,
        )
    handed = sum(release_held(db, group_ids=[group.id]))
    group.approved_at = None
    group.approved_by = None
    db.flush()
    ledger.append(
        db,
        exam,
        kind="scheme_withdrawn",
        actor=account.username,
        payload={"group": group.key, "reason": reason},
    )
    if exam.state is SessionState.MARKING and not any(
        g.approved_at is not None for g in exam.groups
    ):
        exam.state = SessionState.INTAKE
        db.flush()
        # The state change is a record of its own (DESIGN §2), not left to be inferred.
        moved = {"from": "marking", "to": "intake", "because": "scheme_withdrawn"}
        ledger.append(db, exam, kind="session_state", actor=account.username, payload=moved)
    return handed


def marked_in(db: Session, group: MarkingGroup) -> int:
    """Marks given in the group: live marks, checks submitted, qualification sets begun."""
    marks = db.scalar(
        select(func.count())
        .select_from(Mark)
        .join(Response, Response.id == Mark.response_id)
        .where(Response.group_id == group.id)
    )
    begun = (CheckMark.purpose == CheckPurpose.QUALIFICATION) & (CheckMark.state == CheckState.HELD)
    checks = db.scalar(
        select(func.count())
        .select_from(CheckMark)
        .where(CheckMark.group_id == group.id, (CheckMark.state == CheckState.SUBMITTED) | begun)
    )
    return (marks or 0) + (checks or 0)


def _team_of_group(db: Session, group: MarkingGroup) -> list[int]:
    return list(db.scalars(select(Assignment.examiner_id).where(Assignment.group_id == group.id)))

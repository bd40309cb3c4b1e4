"""The examiner register (DESIGN §14): whether a certificate is valid, expired or void, what
an examiner may assess, and the misconduct record with the status it drives.

The rules, from the seed regulations:

- 第三条: a certificate (证卡) is valid three years; lapsed a year or more without renewal,
  the qualification is void. Here: the expiry may be no later than issue + 3 years; a
  certificate is *expired* the day after its expiry date and *void* from the first
  anniversary of that date. A void qualification is renewed only by a new certificate:
  the import refuses to bring a void certificate back with a later expiry unless the row
  carries an issue date after the old expiry (marking/people/examiners.py).
- 第六条(三): an examiner whose card is lost or being renewed may not examine.
- 第七条(一): only within the approved occupation, level and category (a component key;
  a scope item without one covers every component).
- 第八条: three consecutive unexcused absences from assigned sessions earn a warning
  (recorded automatically); the gravest cases revoke the qualification, which is final.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marking.errors import MarkingError, NotFound, StateError
from marking.people.accounts import get_account, record
from marking.quality.holdings import wait_for_claims
from marking.queue.handback import release_held
from marking.store.models import (
    Account,
    Assignment,
    CardStatus,
    Examiner,
    ExaminerStatus,
    ExamSession,
    GroupSuspension,
    Misconduct,
    MisconductKind,
    SessionState,
    utcnow,
)

#: 第三条: a certificate is valid for three years.
VALID_YEARS = 3
#: Sessions that took place (marking reached): serving in one breaks a run of absences.
HELD = (SessionState.MARKING, SessionState.RECONCILED, SessionState.PUBLISHED)
#: 第八条(一): this many consecutive unexcused absences earn a warning.
ABSENCES_FOR_WARNING = 3


class Validity(enum.StrEnum):
    VALID = "valid"
    NOT_YET = "not_yet"  # issued after the day asked about
    EXPIRED = "expired"  # past its expiry, less than a year
    VOID = "void"  # lapsed a year or more (第三条)


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def void_from(examiner: Examiner) -> dt.date:
    """The first day the qualification is void: a year after the certificate expired."""
    return add_years(examiner.certificate_expires, 1)


def validity(examiner: Examiner, on: dt.date) -> Validity:
    """The certificate on day ``on`` (the expiry day itself is still valid)."""
    if examiner.certificate_issued is not None and examiner.certificate_issued > on:
        return Validity.NOT_YET
    if on >= void_from(examiner):
        return Validity.VOID
    if on > examiner.certificate_expires:
        return Validity.EXPIRED
    return Validity.VALID


def scope_text(examiner: Examiner) -> str:
    """The scope as examiners.csv writes it: ``code:level[:category]`` items joined by ';'."""
    items = [
        f"{s.occupation_code}:{s.level}" + (f":{s.category}" if s.category else "")
        for s in examiner.scopes
    ]
    return ";".join(items) or "none"


def qualification_problem(
    examiner: Examiner,
    exam: ExamSession,
    *,
    component: str | None = None,
    components: Collection[str] | None = None,
) -> MarkingError | None:
    """Why ``examiner`` may not assess ``exam`` (DESIGN §14 register), or None.

    Checked: status (suspended, revoked: 第八条), card (lost, renewing: 第六条(三)), the
    certificate on the session's date (not yet issued, expired, void: R11, 第三条) and the
    scope (occupation and level, then each component key asked about — ``component``
    and/or ``components`` — against the scope items' categories: R9, 第七条(一)). With no
    component named, any category at the occupation and level will do.

    Returns the refusal as a coded MarkingError (its ``str()`` the English, naming the
    account and what is wrong; ``code`` and ``params`` for a screen) for the caller to
    raise or collect; raises nothing itself.
    """
    user = examiner.account.username
    if examiner.status is ExaminerStatus.SUSPENDED:
        return MarkingError.coded(
            "examiner_suspended", "%(user)s: the examiner is suspended (第八条)", user=user
        )
    if examiner.status is ExaminerStatus.REVOKED:
        return MarkingError.coded(
            "examiner_revoked",
            "%(user)s: the examiner's qualification is revoked (第八条)",
            user=user,
        )
    if examiner.card_status is CardStatus.LOST:
        return MarkingError.coded(
            "examiner_card_lost",
            "%(user)s: the examiner card is reported lost: no examining until it is valid "
            "again (第六条(三))",
            user=user,
        )
    if examiner.card_status is CardStatus.RENEWING:
        return MarkingError.coded(
            "examiner_card_renewing",
            "%(user)s: the examiner card is being renewed: no examining until it is valid "
            "again (第六条(三))",
            user=user,
        )
    if (why := _certificate_problem(examiner, exam.date, user)) is not None:
        return why
    return _scope_problem(examiner, exam, user, {*(components or ()), *([component])})


def require_in_standing(account: Account, exam: ExamSession) -> None:
    """Raise the register's refusal (coded ``examiner_suspended`` or ``examiner_revoked``)
    when ``account`` is an examiner suspended or revoked (第八条): they examine nothing,
    the lead's rulings and corrections included, until reinstated."""
    examiner = account.examiner
    if examiner is not None and examiner.status is not ExaminerStatus.ACTIVE:
        why = qualification_problem(examiner, exam)
        assert why is not None  # a status other than active is the first problem
        raise why


def _certificate_problem(examiner: Examiner, on: dt.date, user: str) -> MarkingError | None:
    params = {
        "user": user,
        "cert": examiner.certificate_no,
        "date": on.isoformat(),
        "expires": examiner.certificate_expires.isoformat(),
    }
    state = validity(examiner, on)
    if state is Validity.NOT_YET:
        assert examiner.certificate_issued is not None
        return MarkingError.coded(
            "certificate_not_yet",
            "%(user)s: certificate %(cert)s is issued on %(issued)s, after the session date "
            "%(date)s (R11)",
            issued=examiner.certificate_issued.isoformat(),
            **params,
        )
    if state is Validity.VOID:
        return MarkingError.coded(
            "certificate_void",
            "%(user)s: certificate %(cert)s expired on %(expires)s, a year or more before the "
            "session date %(date)s: the qualification is void until a new certificate is "
            "issued (R11, 第三条)",
            **params,
        )
    if state is Validity.EXPIRED:
        return MarkingError.coded(
            "certificate_expired",
            "%(user)s: certificate %(cert)s expired on %(expires)s, before the session date "
            "%(date)s (R11, 第三条)",
            **params,
        )
    return None


def _scope_problem(
    examiner: Examiner, exam: ExamSession, user: str, wanted: set[str | None]
) -> MarkingError | None:
    here = [
        s
        for s in examiner.scopes
        if s.occupation_code == exam.occupation_code and s.level == exam.level
    ]
    params = {
        "user": user,
        "scope": scope_text(examiner),
        "occupation": exam.occupation_code,
        "level": exam.level,
    }
    if not here:
        return MarkingError.coded(
            "out_of_scope",
            "%(user)s: certificate scope (%(scope)s) does not cover %(occupation)s level "
            "%(level)s (R9, 第七条(一))",
            **params,
        )
    categories = {s.category for s in here}
    if "" in categories:
        return None
    names = {c.key: c.name for c in exam.components}
    missing = sorted(k for k in wanted if k is not None and k not in categories)
    if not missing:
        return None
    return MarkingError.coded(
        "out_of_category",
        "%(user)s: certificate scope (%(scope)s) does not cover %(components)s of "
        "%(occupation)s level %(level)s (R9, 第七条(一))",
        components=", ".join(f"{names.get(k, k)} ({k})" for k in missing),
        **params,
    )


# --- the misconduct record (第八条) -------------------------------------------------------------


def _examiner(db: Session, username: str) -> Examiner:
    account = get_account(db, username)
    if account.examiner is None:
        raise NotFound.coded(
            "no_certificate", "%(user)s holds no examiner certificate", user=username
        )
    return account.examiner


def _on_team(db: Session, exam: ExamSession, account: Account) -> bool:
    if account.id in (exam.lead_id, exam.deputy_id):
        return True
    return (
        db.scalar(
            select(Assignment.id).where(
                Assignment.session_id == exam.id, Assignment.examiner_id == account.id
            )
        )
        is not None
    )


def record_absence(
    db: Session,
    username: str,
    exam: ExamSession,
    *,
    excused: bool,
    note: str,
    actor: str,
) -> list[Misconduct]:
    """Record that ``username`` did not come to ``exam``, a session they were assigned to
    (excused, or not); returns the entries made: the absence, and the warning 第八条(一)
    calls for when it is the third unexcused absence in a row.

    Raises NotFound for an unknown account or one without a certificate, MarkingError when
    the examiner is not on the session's team or is already recorded absent from it.
    """
    examiner = _examiner(db, username)
    if not _on_team(db, exam, examiner.account):
        raise MarkingError.coded(
            "absence_not_assigned",
            "%(user)s is not on the team of session %(session)s: an absence is from an "
            "assigned session",
            user=username,
            session=exam.code,
        )
    already = db.scalar(
        select(Misconduct.id).where(
            Misconduct.examiner_id == examiner.account_id,
            Misconduct.session_id == exam.id,
            Misconduct.kind == MisconductKind.ABSENCE,
        )
    )
    if already is not None:
        raise MarkingError.coded(
            "absence_recorded",
            "%(user)s is already recorded absent from session %(session)s",
            user=username,
            session=exam.code,
        )
    made = [_add(db, examiner, MisconductKind.ABSENCE, note, actor, session=exam, excused=excused)]
    streak = unexcused_streak(db, examiner)
    if not excused and len(streak) >= ABSENCES_FOR_WARNING:
        codes = ", ".join(s for s in streak[-ABSENCES_FOR_WARNING:])
        made.append(
            _add(
                db,
                examiner,
                MisconductKind.WARNING,
                f"第八条(一): {ABSENCES_FOR_WARNING} consecutive unexcused absences ({codes})",
                actor,
                automatic=True,
            )
        )
    return made


def unexcused_streak(db: Session, examiner: Examiner) -> list[str]:
    """The codes of the sessions of the examiner's unexcused absences since their last
    warning (or graver entry), oldest first, broken by an excused absence or by a
    session between them the examiner was assigned to and not recorded absent from."""
    entries = list(
        db.scalars(
            select(Misconduct)
            .where(Misconduct.examiner_id == examiner.account_id)
            .order_by(Misconduct.recorded_at, Misconduct.id)
        )
    )
    absences: dict[int, Misconduct] = {}
    for entry in entries:
        if entry.kind in (
            MisconductKind.WARNING,
            MisconductKind.SUSPENSION,
            MisconductKind.REVOCATION,
        ):
            absences.clear()  # a warning (or graver) starts the count again
        elif entry.kind is MisconductKind.ABSENCE and entry.session_id is not None:
            absences[entry.session_id] = entry
    served = set(
        db.scalars(
            select(Assignment.session_id)
            .join(ExamSession, ExamSession.id == Assignment.session_id)
            .where(Assignment.examiner_id == examiner.account_id, ExamSession.state.in_(HELD))
        )
    )
    timeline = db.scalars(
        select(ExamSession)
        .where(ExamSession.id.in_(served | set(absences)))
        .order_by(ExamSession.date, ExamSession.id)
    )
    streak: list[str] = []
    for exam in timeline:
        absence = absences.get(exam.id)
        if absence is None or absence.excused:
            streak = []  # served there, or excused: the run of unexcused absences ends
        else:
            streak.append(exam.code)
    return streak


def _add(
    db: Session,
    examiner: Examiner,
    kind: MisconductKind,
    note: str,
    actor: str,
    *,
    session: ExamSession | None = None,
    excused: bool | None = None,
    automatic: bool = False,
) -> Misconduct:
    entry = Misconduct(
        examiner_id=examiner.account_id,
        kind=kind,
        session_id=session.id if session is not None else None,
        excused=excused,
        automatic=automatic,
        note=note,
        recorded_by=actor,
        recorded_at=utcnow(),
    )
    db.add(entry)
    db.flush()
    record(
        db,
        f"examiner_{kind.value}",
        actor,
        username=examiner.account.username,
        session=session.code if session is not None else None,
        excused=excused,
        automatic=automatic or None,
        note=note,
        status=examiner.status.value,
    )
    return entry


#: What each status change records, and the status it leads to.
_CHANGES = {
    MisconductKind.SUSPENSION: ExaminerStatus.SUSPENDED,
    MisconductKind.REVOCATION: ExaminerStatus.REVOKED,
    MisconductKind.REINSTATEMENT: ExaminerStatus.ACTIVE,
}


def record_misconduct(
    db: Session, username: str, kind: MisconductKind, *, reason: str, actor: str
) -> Misconduct:
    """A warning, note, suspension, revocation or reinstatement on the examiner's record
    (第八条), with its reason; the last three change the examiner's status: suspended or
    revoked, their assignments in sessions still being marked are suspended (the queue
    hands them nothing); reinstated, resumed. Absences go through ``record_absence``.

    Raises NotFound for an unknown account or one without a certificate; MarkingError
    without a reason; StateError for a change the status does not allow (a revoked
    examiner stays revoked, only a suspended one is reinstated, a suspended one is not
    suspended again).
    """
    if kind is MisconductKind.ABSENCE:
        raise MarkingError("an absence names its session: record_absence")
    if not reason.strip():
        raise MarkingError.coded("reason_needed", "give the reason, for the record")
    examiner = _examiner(db, username)
    status = examiner.status
    if status is ExaminerStatus.REVOKED:
        raise StateError.coded(
            "examiner_revoked_final",
            "%(user)s's qualification is revoked (第八条): nothing reverses it",
            user=username,
        )
    target = _CHANGES.get(kind)
    if target is ExaminerStatus.ACTIVE and status is not ExaminerStatus.SUSPENDED:
        raise StateError.coded(
            "not_suspended", "%(user)s is not suspended: nothing to reinstate", user=username
        )
    if target is ExaminerStatus.SUSPENDED and status is ExaminerStatus.SUSPENDED:
        raise StateError.coded("already_suspended", "%(user)s is already suspended", user=username)
    if target is not None:
        examiner.status = target
        _hold_assignments(db, examiner, active=target is ExaminerStatus.ACTIVE)
    return _add(db, examiner, kind, reason.strip(), actor)


def _hold_assignments(db: Session, examiner: Examiner, *, active: bool) -> None:
    """A suspended or revoked examiner receives no more work in the sessions still being
    marked (the queue skips a suspended assignment) and what they hold there goes back at
    once; reinstated, they receive work again, except on a group where a lead suspended
    them (DESIGN §13): that suspension stays until the lead reinstates them."""
    open_sessions = select(ExamSession.id).where(
        ExamSession.state.in_((SessionState.DRAFT, SessionState.INTAKE, SessionState.MARKING))
    )
    held_by_lead = (
        select(GroupSuspension.id)
        .where(
            GroupSuspension.examiner_id == Assignment.examiner_id,
            GroupSuspension.group_id == Assignment.group_id,
            GroupSuspension.reinstated_at.is_(None),
        )
        .exists()
    )
    where = [
        Assignment.examiner_id == examiner.account_id,
        Assignment.session_id.in_(open_sessions),
    ]
    if active:
        where.append(~held_by_lead)
    else:  # an earlier suspension (the lead's) keeps its time
        wait_for_claims(db, examiner_id=examiner.account_id)
        where.append(Assignment.suspended_at.is_(None))
    db.execute(
        update(Assignment)
        .where(*where)
        .values(suspended_at=None if active else utcnow())
        .execution_options(synchronize_session="fetch")
    )
    if not active:
        groups = list(
            db.scalars(
                select(Assignment.group_id).where(
                    Assignment.examiner_id == examiner.account_id,
                    Assignment.session_id.in_(open_sessions),
                )
            )
        )
        release_held(db, examiner_id=examiner.account_id, group_ids=groups, qualification=True)


def misconduct_record(db: Session, examiner: Examiner) -> Sequence[Misconduct]:
    """The examiner's record, oldest first."""
    return list(
        db.scalars(
            select(Misconduct)
            .where(Misconduct.examiner_id == examiner.account_id)
            .order_by(Misconduct.recorded_at, Misconduct.id)
        )
    )


def record_rows(db: Session, examiner: Examiner) -> list[dict[str, object]]:
    """The examiner's record as rows to show: kind, session code (absences), excused,
    automatic, note, who recorded it and when; oldest first."""
    entries = misconduct_record(db, examiner)
    ids = {e.session_id for e in entries if e.session_id is not None}
    codes = dict(
        db.execute(select(ExamSession.id, ExamSession.code).where(ExamSession.id.in_(ids))).all()
    )
    return [
        {
            "kind": e.kind.value,
            "session": codes.get(e.session_id) if e.session_id is not None else None,
            "excused": e.excused,
            "automatic": e.automatic,
            "note": e.note,
            "by": e.recorded_by,
            "at": e.recorded_at,
        }
        for e in entries
    ]

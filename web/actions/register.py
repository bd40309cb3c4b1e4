"""The examiner register and R10's team rules as the screens and the API see them: the
office's register page and its records (第八条), the team of a session with what R10
would refuse and the directors' overrides, the lead's own assignments (第七条(六))."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.errors import MarkingError
from marking.people.register import (
    record_absence,
    record_misconduct,
    record_rows,
    validity,
    void_from,
)
from marking.setup.assignment import assign, get_group
from marking.setup.sessions import get_session
from marking.setup.teams import overrides, record_override, team, team_warnings
from marking.store.models import (
    Account,
    Component,
    ExamSession,
    MisconductKind,
    Role,
    TeamRule,
)
from web import engine_text
from web.actions.common import plain

_: Callable[..., str] = gettext  # flask_babel has no type hints: its messages are str

#: What the office may record from the register page besides an absence.
RECORDS = ("warning", "note", "suspension", "revocation", "reinstatement")


def examiner_register(db: Session, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Every examiner and every lead account (a lead without a certificate shows as such:
    it cannot lead until examiners.csv gives it one): certificate, issue and expiry,
    validity today (valid, expired, void: 第三条), scope with its categories, card, status
    and misconduct record."""
    today = today or dt.date.today()
    names = dict(db.execute(select(Component.key, Component.name).order_by(Component.id)).all())
    accounts = db.scalars(
        select(Account)
        .where(Account.role.in_([Role.EXAMINER, Role.LEAD]))
        .order_by(Account.username)
    )
    out = []
    for a in accounts:
        e = a.examiner  # None: a lead account still without its certificate
        out.append(
            {
                "username": a.username,
                "name": a.name,
                "role": a.role.value,
                "active": a.active,
                "has_password": a.password_hash is not None,
                "grade": e.grade.value if e else None,
                "certificate_no": e.certificate_no if e else None,
                "certificate_issued": plain(e.certificate_issued) if e else None,
                "certificate_expires": e.certificate_expires.isoformat() if e else None,
                "validity": validity(e, today).value if e else None,
                "void_from": void_from(e).isoformat() if e else None,
                "scope": [
                    f"{s.occupation_code}:{s.level}" + (f":{s.category}" if s.category else "")
                    for s in e.scopes
                ]
                if e
                else [],
                "scope_items": [
                    {
                        "occupation": s.occupation_code,
                        "level": s.level,
                        "category": s.category,
                        "category_name": names.get(s.category, s.category),
                    }
                    for s in e.scopes
                ]
                if e
                else [],
                "card_status": e.card_status.value if e else None,
                "status": e.status.value if e else None,
                "record": [{**r, "at": plain(r["at"])} for r in record_rows(db, e)] if e else [],
            }
        )
    return out


def examiner_absence(
    db: Session, account: Account, username: str, code: str, *, excused: bool, note: str
) -> dict[str, Any]:
    """Record an absence from an assigned session; 第八条(一)'s warning comes with the
    third unexcused one in a row."""
    if not code.strip():
        raise MarkingError(_("Choose the session of the absence."))
    made = record_absence(
        db,
        username,
        get_session(db, code.strip()),
        excused=excused,
        note=note.strip(),
        actor=account.username,
    )
    return {"recorded": [m.kind.value for m in made], "warning": len(made) > 1}


def examiner_record(
    db: Session, account: Account, username: str, kind: str, *, reason: str, confirmed: bool
) -> dict[str, Any]:
    """A warning, note, suspension, revocation or reinstatement; the last three only when
    confirmed (they change whether the examiner may examine)."""
    if kind not in RECORDS:
        raise MarkingError(
            _("Choose what to record: warning, note, suspension, revocation or reinstatement.")
        )
    what = MisconductKind(kind)
    if what not in (MisconductKind.WARNING, MisconductKind.NOTE) and not confirmed:
        raise MarkingError(
            _("Tick the box to confirm: this changes whether %(u)s may examine.", u=username)
        )
    entry = record_misconduct(db, username, what, reason=reason, actor=account.username)
    return {"recorded": entry.kind.value}


def team_state(db: Session, exam: ExamSession) -> dict[str, Any]:
    """The session's team (lead included), what R10 would refuse about it now (each its
    code and its words in the reader's language) and the overrides recorded."""
    members = sorted(a.username for i in team(db, exam) if (a := db.get(Account, i)) is not None)
    recorded = []
    for o in overrides(db, exam):
        who = db.get(Account, o.examiner_id) if o.examiner_id else None
        recorded.append(
            {
                "rule": o.rule.value,
                "examiner": who.username if who else None,
                "reason": o.reason,
                "director": o.director,
                "at": plain(o.created_at),
            }
        )
    problems = [
        {"code": p.code, "message": engine_text.word(p) or str(p)} for p in team_warnings(db, exam)
    ]
    return {"members": members, "problems": problems, "overrides": recorded}


def team_override(
    db: Session,
    exam: ExamSession,
    account: Account,
    *,
    rule: str,
    examiner: str,
    reason: str,
    confirmed: bool,
) -> dict[str, Any]:
    """A director's override of an R10 rule for this session, confirmed, with the reason."""
    try:
        which = TeamRule(rule)
    except ValueError:
        raise MarkingError(_("Choose the rule: rotation or consecutive sessions.")) from None
    if not confirmed:
        raise MarkingError(
            _(
                "Tick the box to confirm: the team of %(c)s may then break this rule.",
                c=exam.code,
            )
        )
    done = record_override(
        db,
        exam,
        rule=which,
        director=account.username,
        reason=reason,
        examiner=examiner.strip() or None,
    )
    return {"rule": done.rule.value, "examiner": examiner.strip() or None}


def lead_assign(
    db: Session, exam: ExamSession, account: Account, group_key: str, usernames: Sequence[str]
) -> dict[str, Any]:
    """The lead divides the work (第七条(六)): examiners onto a group of their session, by
    the same service and checks as the office's assignment; the lead stays who it is."""
    names = [u.strip() for u in usernames if u.strip()]
    if not names:
        raise MarkingError(_("Name at least one examiner."))
    result = assign(db, exam, get_group(db, exam, group_key), names, actor=account.username)
    return dataclasses.asdict(result)


def held_by_leads(db: Session, username: str) -> list[tuple[str, str]]:
    """(session code, group name) where a lead still suspends the examiner: a register
    reinstatement leaves those in place (DESIGN §13)."""
    from marking.people.accounts import get_account
    from marking.quality.suspension import held_by_leads as open_suspensions

    return open_suspensions(db, examiner_id=get_account(db, username).id)

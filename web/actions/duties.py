"""Duties done in the browser (issue 12, item 9): an examiner's own recusal declarations,
the ledger check of a session, notices for chosen candidates, and the examiners' passwords
and invitations set by the office."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking import jobs
from marking.audit.verify import verify
from marking.jobs.library import Jobs
from marking.people import declarations, invitations
from marking.setup.sessions import get_session
from marking.store.models import Account, ExamSession, ReportRun, SessionState
from web.actions.common import plain

OPEN = (SessionState.DRAFT, SessionState.INTAKE, SessionState.MARKING, SessionState.RECONCILED)


def declarable_sessions(db: Session) -> list[dict[str, Any]]:
    """The sessions a declaration can go to (not published), and whether each can seal one
    yet (its key made). Codes, trades and dates only: nothing about candidates."""
    rows = db.scalars(
        select(ExamSession).where(ExamSession.state.in_(OPEN)).order_by(ExamSession.code)
    )
    return [
        {
            "code": e.code,
            "occupation": e.occupation,
            "level": e.level,
            "date": e.date.isoformat(),
            "has_key": e.public_key is not None,
        }
        for e in rows
    ]


def declare(
    db: Session,
    account: Account,
    *,
    id_number: str,
    relation: str,
    session: str,
    other_document: bool = False,
) -> dict[str, Any]:
    """The account's own declaration, into the session chosen or every open one with a key
    (``session`` empty); the answer names the sessions only."""
    exam = get_session(db, session) if session else None
    done = declarations.declare_conflict(
        db,
        account=account,
        id_number=id_number,
        relation=relation,
        session=exam,
        other_document=other_document,
    )
    return {"sessions": [e.code for e in done]}


def own_declarations(db: Session, account: Account) -> list[dict[str, Any]]:
    return [
        {"session": d.session, "count": d.count, "first_at": d.first_at, "last_at": d.last_at}
        for d in declarations.own_declarations(db, account)
    ]


def verify_session(db: Session, exam: ExamSession) -> dict[str, Any]:
    """The session's ledger check as the office or the director sees it."""
    report = verify(db, exam)
    return {
        "ok": report.ok,
        "entries": report.entries,
        "lanes": report.lanes,
        "head": report.head,
        "problems": list(report.problems),
    }


def exam_numbers(text: str, ticked: list[str]) -> list[str]:
    """Exam numbers typed or pasted (commas, spaces, semicolons or lines between them; the
    Chinese comma too) and ticked, each once, in that order."""
    typed = [n for n in re.split(r"[\s,;，；、]+", text) if n]
    return list(dict.fromkeys([*typed, *(t.strip() for t in ticked if t.strip())]))


def notices_for(
    job_queue: Jobs,
    db: Session,
    exam: ExamSession,
    account: Account,
    *,
    lang: str,
    exam_nos: list[str] | None,
) -> ReportRun:
    return jobs.submit_notices(
        job_queue, db, exam, requested_by=account.username, lang=lang, exam_nos=exam_nos
    )


def examiner_access(db: Session, username: str) -> dict[str, Any]:
    account = invitations.examiner_account(db, username)
    state: dict[str, Any] = plain(invitations.access_state(db, account))
    return state


def set_examiner_password(
    db: Session, office: Account, username: str, password: str
) -> dict[str, Any]:
    invitations.set_examiner_password(db, office=office, username=username, password=password)
    return {"username": username, "password_set": True}


def invite(db: Session, office: Account, username: str) -> tuple[dict[str, Any], str]:
    """A new invitation: what the office sees of it, and the token (shown once)."""
    made, token = invitations.invite(db, office=office, username=username)
    return {"username": username, "expires_at": plain(made.expires_at)}, token

"""Which sessions an account may touch: every view goes through one of these."""

from __future__ import annotations

from marking.errors import NotFound
from marking.models import Account, ExamSession, Role
from marking.sessions import get_session
from marking.views import is_assigned
from web.db import get_db
from web.security import Forbidden, me


def session_as_examiner(code: str) -> tuple[ExamSession, Account]:
    """A session the logged-in examiner is assigned to."""
    account = me()
    db = get_db()
    exam = _get(code)
    if account.role is not Role.EXAMINER or not is_assigned(db, exam, account):
        raise Forbidden(f"you are not an examiner of session {code}")
    return exam, account


def session_as_lead(code: str) -> tuple[ExamSession, Account]:
    """A session the logged-in account leads (a lead account, or an examiner named lead)."""
    account = me()
    exam = _get(code)
    if account.role not in (Role.LEAD, Role.EXAMINER) or exam.lead_id != account.id:
        raise Forbidden(f"you are not the lead examiner of session {code}")
    return exam, account


def session_as_staff(code: str, *roles: Role) -> tuple[ExamSession, Account]:
    """Any session, for the centre's staff of ``roles`` (office, director)."""
    account = me()
    if account.role not in roles:
        raise Forbidden("this is for the office and the director")
    return _get(code), account


def _get(code: str) -> ExamSession:
    try:
        return get_session(get_db(), code)
    except NotFound:
        raise NotFound(f"no session {code}") from None

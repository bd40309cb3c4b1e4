"""Which sessions an account may touch: every view goes through one of these."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from marking.errors import NotFound
from marking.setup.custody import CUSTODIAN_ROLES
from marking.setup.sessions import get_session
from marking.store.models import Account, Assignment, ExamSession, Role
from web.db import get_db
from web.security import Forbidden, me


def session_as_examiner(code: str) -> tuple[ExamSession, Account]:
    """A session the logged-in examiner is assigned to.

    The session and the assignment in one query: every marking request asks this, and a
    round trip to the database is a good share of a mark's time (bench/http.py).
    """
    account = me()
    assigned = (
        select(Assignment.id)
        .where(Assignment.session_id == ExamSession.id, Assignment.examiner_id == account.id)
        .exists()
    )
    row = get_db().execute(select(ExamSession, assigned).where(ExamSession.code == code)).first()
    if row is None:
        raise NotFound(_("There is no session %(code)s.", code=code))
    exam, is_assigned = row
    if account.role is not Role.EXAMINER or not is_assigned:
        raise Forbidden(_("You are not an examiner of session %(code)s.", code=code))
    return exam, account


def session_as_lead(code: str) -> tuple[ExamSession, Account]:
    """A session the logged-in account leads (a lead account, or an examiner named lead),
    or deputises for: the engine decides which responses each of them rules on, and keeps
    scheme approval and key corrections to the lead."""
    account = me()
    exam = _get(code)
    if account.role not in (Role.LEAD, Role.EXAMINER) or account.id not in (
        exam.lead_id,
        exam.deputy_id,
    ):
        raise Forbidden(_("You are not the lead examiner of session %(code)s.", code=code))
    return exam, account


def session_as_staff(code: str, *roles: Role) -> tuple[ExamSession, Account]:
    """Any session, for the centre's staff of ``roles`` (office, director)."""
    account = me()
    if account.role not in roles:
        raise Forbidden(_("This is for the office and the director."))
    return _get(code), account


def session_as_custodian(code: str) -> tuple[ExamSession, Account]:
    """A session, for a staff account that may hold a share of its key (the engine then
    checks that it does: marking/setup/custody.py)."""
    account = me()
    if account.role not in CUSTODIAN_ROLES:
        raise Forbidden(_("Key shares are held by staff accounts only."))
    return _get(code), account


def _get(code: str) -> ExamSession:
    try:
        return get_session(get_db(), code)
    except NotFound:
        raise NotFound(_("There is no session %(code)s.", code=code)) from None

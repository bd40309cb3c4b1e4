"""An examiner's own recusal declarations in the browser (R10; seed rules 第七条(四): 回避 for
relatives, teachers and students, masters and apprentices): the file import's service for
one row, and what the examiner may see of them afterwards (where and when, never whom)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.errors import MarkingError
from marking.people.examiners import RECUSED_ROLES, _conflict_targets, _store_conflicts
from marking.store.models import (
    Account,
    ExamSession,
    Relation,
    SealedKind,
    SealedRecord,
)


def declare_conflict(
    db: Session,
    *,
    account: Account,
    id_number: str,
    relation: str,
    session: ExamSession | None = None,
    other_document: bool = False,
) -> list[ExamSession]:
    """An examiner's (or lead's) own recusal declaration (R10, 第七条(四)), as the file
    import takes it: sealed on entry into the session named, or into every open session that
    has its key (those without one cannot seal it yet: they are not among those returned),
    and left waiting for their later intakes. Returns the sessions it went to.

    A number of digits that is not a valid 18-character resident identity card number (GB
    11643 check digit) or an old 15-digit one is refused unless ``other_document`` says it is
    another document's number: a mistyped number would never match and recuse nobody.

    Raises MarkingError (coded) for an account not held to recusal, an empty, over-long or
    mistyped ID number, an unknown relation, a published or keyless session, or no session
    to take it."""
    if account.role not in RECUSED_ROLES or not account.active:
        raise MarkingError.coded(
            "conflict_not_recused", "only examiners and leads declare their own conflicts"
        )
    idn = id_number.strip().upper()
    if not idn:
        raise MarkingError.coded("conflict_id_empty", "type the candidate's ID number")
    if len(idn) > 64:
        raise MarkingError.coded("conflict_id_long", "an ID number has at most 64 characters")
    if not other_document and not resident_id_plausible(idn):
        raise MarkingError.coded(
            "conflict_id_checksum",
            "%(id)s is not a resident identity card number (18 characters, the last its check "
            "digit): check it, or say it is another document's number",
            id=idn,
        )
    try:
        rel = Relation(relation.strip().lower())
    except ValueError:
        raise MarkingError.coded(
            "conflict_relation",
            "choose the relation: relative, teacher_student, master_apprentice or other",
        ) from None
    if session is not None:
        targets = [session]
    else:
        targets = [e for e in _conflict_targets_or_none(db) if e.public_key is not None]
        if not targets:
            raise MarkingError.coded(
                "conflict_no_session", "no open session can take a declaration yet"
            )
    for exam in targets:
        _store_conflicts(db, exam, [(account, idn, rel)], actor=account.username)
    return targets


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id_plausible(idn: str) -> bool:
    """False for a number that looks like a resident identity card number (digits, perhaps a
    final X) but is not one: 18 characters with a right GB 11643 check digit, or 15 digits.
    Anything else (a passport, a permit) is another document's: True."""
    if not re.fullmatch(r"[0-9]+X?", idn):
        return True
    if len(idn) == 15:
        return idn.isdigit()
    if len(idn) != 18 or not idn[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(idn[:17], _WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == idn[17]


def _conflict_targets_or_none(db: Session) -> list[ExamSession]:
    try:
        return _conflict_targets(db, None)
    except MarkingError:
        return []


@dataclass(frozen=True)
class OwnDeclaration:
    """What an examiner may know of the declarations they made: where and when, no more."""

    session: str
    count: int
    first_at: dt.datetime
    last_at: dt.datetime


def own_declarations(db: Session, account: Account) -> list[OwnDeclaration]:
    """The sealed declarations ``account`` made itself, per session: how many and when. The
    sealed records are never opened here: nothing names a candidate, and nothing says
    whether a declaration matched anyone (that would tell who sits the exam)."""
    rows = db.execute(
        select(
            ExamSession.code,
            func.count(SealedRecord.id),
            func.min(SealedRecord.created_at),
            func.max(SealedRecord.created_at),
        )
        .join(ExamSession, ExamSession.id == SealedRecord.session_id)
        .where(
            SealedRecord.kind == SealedKind.CONFLICT,
            SealedRecord.created_by == account.username,
        )
        .group_by(ExamSession.code)
        .order_by(ExamSession.code)
    )
    return [OwnDeclaration(code, int(n), first, last) for code, n, first, last in rows]

"""Examiner accounts and their certificates (examiners.csv); recusal declarations (conflicts)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.domain.tabular import read_rows
from marking.errors import InputError, InputErrors, MarkingError
from marking.intake.records import seal
from marking.intake.recusal import keep_waiting
from marking.people.accounts import SYSTEM, record
from marking.people.register import VALID_YEARS, Validity, add_years, validity, void_from
from marking.store.models import (
    Account,
    CardStatus,
    Examiner,
    ExaminerScope,
    ExaminerStatus,
    ExamSession,
    Grade,
    Relation,
    Role,
    SealedKind,
    SessionState,
)

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
SCOPE_ITEM = re.compile(r"^\s*([0-9A-Za-z-]+)\s*:\s*([1-5])\s*(?::\s*([A-Za-z0-9_-]{1,32})\s*)?$")
CATEGORY = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_ERRORS = 50

EXAMINER_COLUMNS = (
    "username",
    "name",
    "certificate_no",
    "certificate_expires",
    "grade",
    "scope",
    "institution",
)
#: DESIGN §14 "Contract additions": files without them (7 columns) still load.
EXAMINER_OPTIONAL = ("certificate_issued", "category", "card_status")
CONFLICT_COLUMNS = ("username", "id_number", "relation")


@dataclass(frozen=True)
class ExaminerImport:
    created: int
    updated: int


@dataclass(frozen=True)
class _ExaminerRow:
    rowno: int
    username: str
    name: str
    certificate_no: str
    issued: dt.date | None  # None: the file does not say
    expires: dt.date
    grade: Grade
    scopes: list[tuple[str, int, str]]  # occupation code, level, category ("" = every one)
    institution: str
    card: CardStatus | None  # None: the file does not say (a new examiner's card is valid)


def import_examiners(
    db: Session, path: Path, *, actor: str = SYSTEM, today: dt.date | None = None
) -> ExaminerImport:
    """Create or update examiner accounts from ``examiners.csv`` (DESIGN §11, §14).

    An existing examiner is updated (a renewed certificate, a wider scope); so is the
    certificate of an existing ``lead`` account (a lead is a senior examiner, DESIGN §14),
    which stays a lead account. A username held by another kind of account is refused.
    Optional columns: ``certificate_issued`` (the expiry may be no later than three years
    after it, 第三条), ``category`` (component keys, ';'-separated, for the scope items
    that name none) and ``card_status`` (valid | lost | renewing, 第六条(三)); left empty
    for an existing examiner, the issue date (same certificate) and card stay as they were.
    A certificate void on ``today`` (lapsed a year or more, 第三条) is renewed only by a
    new one: a later expiry needs a ``certificate_issued`` after the old expiry.
    The status (suspended, revoked) is not the file's to change.

    Raises InputErrors listing every bad row; then nothing is stored.
    """
    rows = _read_examiners(path)
    made, changed = _store_examiners(db, path.name, rows, today or dt.date.today())
    db.flush()
    if made:
        record(db, "examiners_created", actor, usernames=sorted(made), role=Role.EXAMINER.value)
    if changed:
        record(db, "examiners_updated", actor, usernames=sorted(changed))
    return ExaminerImport(created=len(made), updated=len(changed))


def _read_examiners(path: Path) -> list[_ExaminerRow]:
    """The file's examiners, checked row by row; or InputErrors."""
    name = path.name
    errors: list[InputError] = []
    rows: list[_ExaminerRow] = []
    seen: dict[str, int] = {}
    certs: dict[str, int] = {}
    for rowno, fields in read_rows(path, EXAMINER_COLUMNS, optional=EXAMINER_OPTIONAL):
        bad = len(errors)
        row = _check_examiner(name, rowno, fields, seen, certs, errors)
        if len(errors) == bad and row is not None:
            rows.append(row)
        if len(errors) >= MAX_ERRORS:
            raise InputErrors(errors, truncated=True)
    if errors:
        raise InputErrors(errors)
    return rows


def _date(text: str, column: str, err: Callable[[str, str], None]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        err(column, "not a date in YYYY-MM-DD form")
        return None


def _check_examiner(
    name: str,
    rowno: int,
    fields: tuple[str, ...],
    seen: dict[str, int],
    certs: dict[str, int],
    errors: list[InputError],
) -> _ExaminerRow | None:
    """One row checked: its problems appended to ``errors``, its values if it has none."""
    username, person, cert, expires, grade, scope, institution, issued, category, card = fields
    bad = len(errors)

    def err(column: str, reason: str) -> None:
        errors.append(InputError(name, reason, row=rowno, column=column))

    if not USERNAME.match(username):
        err("username", "must be 1-64 letters, digits, '.', '_' or '-'")
    elif username.lower() in seen:
        err("username", f"duplicate of row {seen[username.lower()]} (up to case)")
    if not person:
        err("name", "empty")
    if not cert:
        err("certificate_no", "empty")
    elif cert in certs:
        err("certificate_no", f"duplicate of row {certs[cert]}")
    expiry = _date(expires, "certificate_expires", err)
    issue = _date(issued, "certificate_issued", err) if issued else None
    if expiry is not None and issue is not None:
        _check_validity(issue, expiry, err)
    try:
        grade_value = Grade(grade.lower())
    except ValueError:
        err("grade", "must be 'examiner' or 'senior'")
    scopes = _check_scope(scope, category, err)
    try:
        card_value = CardStatus(card.lower()) if card else None
    except ValueError:
        err("card_status", "must be 'valid', 'lost' or 'renewing'")
    seen.setdefault(username.lower(), rowno)
    certs.setdefault(cert, rowno)
    if len(errors) != bad or expiry is None:
        return None
    return _ExaminerRow(
        rowno, username, person, cert, issue, expiry, grade_value, scopes, institution, card_value
    )


def _check_validity(issue: dt.date, expiry: dt.date, err: Callable[[str, str], None]) -> None:
    """第三条: a certificate is valid three years from its issue."""
    if expiry < issue:
        err("certificate_expires", f"before certificate_issued ({issue.isoformat()})")
    elif expiry > add_years(issue, VALID_YEARS):
        err(
            "certificate_expires",
            f"more than {VALID_YEARS} years after certificate_issued ({issue.isoformat()}): "
            f"a certificate is valid {VALID_YEARS} years (第三条)",
        )


def _check_scope(
    scope: str, category: str, err: Callable[[str, str], None]
) -> list[tuple[str, int, str]]:
    """Scope items ``code:level`` or ``code:level:category``; the ``category`` column's
    keys apply to each item that names none (DESIGN §14)."""
    defaults = [c.strip() for c in category.split(";") if c.strip()]
    for c in defaults:
        if not CATEGORY.match(c):
            err("category", f"{c!r} is not a component key (letters, digits, '_' or '-')")
    scopes: list[tuple[str, int, str]] = []
    for item in filter(None, (s.strip() for s in scope.split(";"))):
        m = SCOPE_ITEM.match(item)
        if m is None:
            err(
                "scope",
                f"item {item!r} is not occupation_code:level or occupation_code:level:category "
                "with level 1-5",
            )
        elif m.group(3):
            scopes.append((m.group(1), int(m.group(2)), m.group(3)))
        else:
            scopes.extend((m.group(1), int(m.group(2)), c) for c in defaults or [""])
    if not scopes and not scope.strip():
        err("scope", "empty: an examiner must be approved for at least one occupation")
    return scopes


def _store_examiners(
    db: Session, name: str, rows: list[_ExaminerRow], today: dt.date
) -> tuple[list[str], list[str]]:
    """Accounts created or updated from checked rows: (usernames made, usernames updated).

    Raises InputErrors for rows whose username another account holds, or that would
    bring a void certificate back without a new one.
    """
    errors: list[InputError] = []
    wanted = [r.username.lower() for r in rows]
    existing: dict[str, Account] = {}
    look_alike: dict[str, str] = {}  # a row's username -> the account differing only in case
    for a in db.scalars(select(Account).where(func.lower(Account.username).in_(wanted))):
        existing[a.username] = a
        look_alike[a.username.lower()] = a.username
    made: list[str] = []
    changed: list[str] = []
    for row in rows:
        account = existing.get(row.username)
        other = look_alike.get(row.username.lower())
        why = _account_problem(account, other, row, today)
        if why is not None:
            errors.append(InputError(name, why[1], row=row.rowno, column=why[0]))
            continue
        if account is None:
            account = Account(username=row.username, name=row.name, role=Role.EXAMINER)
            db.add(account)
            made.append(row.username)
        else:
            account.name = row.name
            changed.append(row.username)
        _set_certificate(db, account, row)
    if errors:
        raise InputErrors(errors)
    return made, changed


def _account_problem(
    account: Account | None, other: str | None, row: _ExaminerRow, today: dt.date
) -> tuple[str, str] | None:
    """(column, reason) when the row may not create or update ``account``, else None."""
    if account is None and other is not None:
        return (
            "username",
            f"username differs from the existing account {other!r} only in case; "
            "use that exact username or one that differs in more than case",
        )
    if account is None:
        return None
    if account.role not in (Role.EXAMINER, Role.LEAD):
        return (
            "username",
            f"username belongs to an account of role {account.role.value}, not an examiner or lead",
        )
    old = account.examiner
    if (
        old is not None
        and validity(old, today) is Validity.VOID
        and row.expires > old.certificate_expires
        and (row.issued is None or row.issued <= old.certificate_expires)
    ):
        return (
            "certificate_issued",
            f"certificate {old.certificate_no} on record expired on "
            f"{old.certificate_expires.isoformat()} and is void since "
            f"{void_from(old).isoformat()} (lapsed a year or more, 第三条): renewing needs a "
            f"new certificate, with a certificate_issued after "
            f"{old.certificate_expires.isoformat()}",
        )
    return None


def _set_certificate(db: Session, account: Account, row: _ExaminerRow) -> None:
    examiner = account.examiner or Examiner(account=account)
    same = examiner.certificate_no == row.certificate_no
    examiner.certificate_issued = row.issued or (examiner.certificate_issued if same else None)
    examiner.certificate_no = row.certificate_no
    examiner.certificate_expires = row.expires
    examiner.grade = row.grade
    examiner.institution = row.institution
    if row.card is not None or examiner.card_status is None:
        examiner.card_status = row.card or CardStatus.VALID
    if examiner.status is None:
        examiner.status = ExaminerStatus.ACTIVE
    wanted = sorted(set(row.scopes))
    if [(s.occupation_code, s.level, s.category) for s in examiner.scopes] != wanted:
        examiner.scopes = [
            ExaminerScope(occupation_code=code, level=level, category=cat)
            for code, level, cat in wanted
        ]
    db.add(examiner)


#: Accounts held to recusal: examiners, and leads (DESIGN §14: the lead too).
RECUSED_ROLES = (Role.EXAMINER, Role.LEAD)


def import_conflicts(
    db: Session, path: Path, *, actor: str, session: ExamSession | None = None
) -> list[tuple[ExamSession, int]]:
    """Record recusal declarations (examiner or lead ↔ candidate ID number) for one or all
    open sessions.

    Each declaration is sealed to the session's public key the moment it enters, to be
    checked when publication unseals (this catches candidates already taken in). It also
    waits, as a keyed digest of the ID number (marking/intake/recusal.py), for every later intake
    of the session to turn into exclusions, until it matches or the session is published.
    Returns (session, count) per session. Raises InputErrors for bad rows, MarkingError
    when no session can take them.
    """
    decls = _read_conflicts(db, path)
    targets = _conflict_targets(db, session)
    out: list[tuple[ExamSession, int]] = []
    for exam in targets:
        _store_conflicts(db, exam, decls, actor=actor)
        out.append((exam, len(decls)))
    return out


_Declaration = tuple[Account, str, Relation]


def _read_conflicts(db: Session, path: Path) -> list[_Declaration]:
    """The file's declarations, each row checked (the account must be held to recusal)."""
    name = path.name
    errors: list[InputError] = []
    decls: list[_Declaration] = []
    usernames: dict[str, Account | None] = {}
    for rowno, (username, id_number, relation) in read_rows(path, CONFLICT_COLUMNS):
        if username not in usernames:
            usernames[username] = db.scalar(
                select(Account).where(Account.username == username, Account.role.in_(RECUSED_ROLES))
            )
        account = usernames[username]
        if account is None:
            errors.append(
                InputError(
                    name, "no examiner or lead with this username", row=rowno, column="username"
                )
            )
        if not id_number:
            errors.append(InputError(name, "empty", row=rowno, column="id_number"))
        elif len(id_number) > 64:
            errors.append(
                InputError(name, "longer than 64 characters", row=rowno, column="id_number")
            )
        try:
            rel = Relation(relation.lower())
        except ValueError:
            errors.append(
                InputError(
                    name,
                    "must be relative, teacher_student, master_apprentice or other",
                    row=rowno,
                    column="relation",
                )
            )
            continue
        if account is not None and id_number and len(id_number) <= 64:
            decls.append((account, id_number.upper(), rel))
        if len(errors) >= MAX_ERRORS:
            raise InputErrors(errors, truncated=True)
    if errors:
        raise InputErrors(errors)
    return decls


def _conflict_targets(db: Session, session: ExamSession | None) -> list[ExamSession]:
    """The sessions the declarations go to: the one named, or every open one."""
    if session is not None:
        targets = [session]
    else:
        targets = list(
            db.scalars(
                select(ExamSession).where(
                    ExamSession.state.in_(
                        [
                            SessionState.DRAFT,
                            SessionState.INTAKE,
                            SessionState.MARKING,
                            SessionState.RECONCILED,
                        ]
                    )
                )
            )
        )
    if not targets:
        raise MarkingError("no session is open to take conflict declarations")
    return targets


def _store_conflicts(
    db: Session, exam: ExamSession, decls: list[_Declaration], *, actor: str
) -> None:
    """Declarations sealed into one session and left waiting for its later intakes."""
    if exam.state is SessionState.PUBLISHED:
        raise MarkingError.coded(
            "conflict_published",
            "session %(session)s is published: too late to declare",
            session=exam.code,
        )
    if exam.public_key is None:
        raise MarkingError.coded(
            "conflict_no_key",
            "session %(session)s has no key yet: the office makes it (`blindmark keys init` "
            "or the session page) before conflicts are declared, so they can be sealed",
            session=exam.code,
        )
    seal(
        db,
        exam,
        SealedKind.CONFLICT,
        [
            {"examiner": a.username, "id_number": idn, "relation": rel.value}
            for a, idn, rel in decls
        ],
        actor=actor,
    )
    keep_waiting(db, exam, [(a.id, idn) for a, idn, _rel in decls])
    db.flush()

"""Examiner accounts and their certificates; recusal declarations (conflicts)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.domain.tabular import read_rows
from marking.errors import InputError, InputErrors, MarkingError
from marking.intake.records import seal
from marking.intake.recusal import keep_waiting
from marking.people.accounts import SYSTEM, record
from marking.store.models import (
    Account,
    Examiner,
    ExaminerScope,
    ExamSession,
    Grade,
    Relation,
    Role,
    SealedKind,
    SessionState,
)

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
SCOPE_ITEM = re.compile(r"^\s*([0-9A-Za-z-]+)\s*:\s*([1-5])\s*$")
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
CONFLICT_COLUMNS = ("username", "id_number", "relation")


@dataclass(frozen=True)
class ExaminerImport:
    created: int
    updated: int


_ExaminerRow = tuple[str, str, str, dt.date, Grade, list[tuple[str, int]], str]


def import_examiners(db: Session, path: Path, *, actor: str = SYSTEM) -> ExaminerImport:
    """Create or update examiner accounts from ``examiners.csv`` (DESIGN §11).

    An existing examiner is updated (a renewed certificate, a wider scope); a username
    held by a non-examiner account is refused. Raises InputErrors listing every bad row;
    then nothing is stored.
    """
    rows, row_numbers = _read_examiners(path)
    made, created, updated = _store_examiners(db, path.name, rows, row_numbers)
    db.flush()
    if made:
        record(db, "examiners_created", actor, usernames=sorted(made), role=Role.EXAMINER.value)
    return ExaminerImport(created=created, updated=updated)


def _read_examiners(path: Path) -> tuple[list[_ExaminerRow], list[int]]:
    """The file's examiners, checked row by row, with the file's row of each; or InputErrors."""
    name = path.name
    errors: list[InputError] = []
    rows: list[_ExaminerRow] = []
    row_numbers: list[int] = []  # the file's row of each entry of rows (blank rows skipped)
    seen: dict[str, int] = {}
    certs: dict[str, int] = {}
    for rowno, fields in read_rows(path, EXAMINER_COLUMNS):
        bad = len(errors)
        row = _check_examiner(name, rowno, fields, seen, certs, errors)
        if len(errors) == bad and row is not None:
            rows.append(row)
            row_numbers.append(rowno)
        if len(errors) >= MAX_ERRORS:
            raise InputErrors(errors, truncated=True)
    if errors:
        raise InputErrors(errors)
    return rows, row_numbers


def _check_examiner(
    name: str,
    rowno: int,
    fields: tuple[str, ...],
    seen: dict[str, int],
    certs: dict[str, int],
    errors: list[InputError],
) -> _ExaminerRow | None:
    """One row checked: its problems appended to ``errors``, its values if it has none."""
    username, person, cert, expires, grade, scope, institution = fields
    bad = len(errors)

    def err(column: str, reason: str, rowno: int = rowno) -> None:
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
    try:
        expiry = dt.date.fromisoformat(expires)
    except ValueError:
        err("certificate_expires", "not a date in YYYY-MM-DD form")
    try:
        grade_value = Grade(grade.lower())
    except ValueError:
        err("grade", "must be 'examiner' or 'senior'")
    scopes: list[tuple[str, int]] = []
    for item in filter(None, (s.strip() for s in scope.split(";"))):
        m = SCOPE_ITEM.match(item)
        if m is None:
            err("scope", f"item {item!r} is not occupation_code:level with level 1-5")
        else:
            scopes.append((m.group(1), int(m.group(2))))
    if not scopes and not scope.strip():
        err("scope", "empty: an examiner must be approved for at least one occupation")
    seen.setdefault(username.lower(), rowno)
    certs.setdefault(cert, rowno)
    if len(errors) != bad:
        return None
    return (username, person, cert, expiry, grade_value, scopes, institution)


def _store_examiners(
    db: Session, name: str, rows: list[_ExaminerRow], row_numbers: list[int]
) -> tuple[list[str], int, int]:
    """Accounts created or updated from checked rows: (usernames made, created, updated).

    Raises InputErrors for rows whose username another account holds.
    """
    errors: list[InputError] = []
    wanted = [r[0].lower() for r in rows]
    existing: dict[str, Account] = {}
    look_alike: dict[str, str] = {}  # a row's username -> the account differing only in case
    for a in db.scalars(select(Account).where(func.lower(Account.username).in_(wanted))):
        existing[a.username] = a
        look_alike[a.username.lower()] = a.username
    made: list[str] = []
    created = updated = 0
    for rowno_index, (username, person, cert, expiry, grade_value, scopes, inst) in enumerate(rows):
        account = existing.get(username)
        other = look_alike.get(username.lower())
        if account is None and other is not None:
            errors.append(
                InputError(
                    name,
                    f"username differs from the existing account {other!r} only in case; "
                    "use that exact username or one that differs in more than case",
                    row=row_numbers[rowno_index],
                    column="username",
                )
            )
            continue
        if account is None:
            account = Account(username=username, name=person, role=Role.EXAMINER)
            db.add(account)
            made.append(username)
            created += 1
        elif account.role is not Role.EXAMINER:
            errors.append(
                InputError(
                    name,
                    f"username belongs to an account of role {account.role.value}, not an examiner",
                    row=row_numbers[rowno_index],
                    column="username",
                )
            )
            continue
        else:
            account.name = person
            updated += 1
        examiner = account.examiner or Examiner(account=account)
        examiner.certificate_no = cert
        examiner.certificate_expires = expiry
        examiner.grade = grade_value
        examiner.institution = inst
        examiner.scopes = [
            ExaminerScope(occupation_code=code, level=level) for code, level in sorted(set(scopes))
        ]
        db.add(examiner)
    if errors:
        raise InputErrors(errors)
    return made, created, updated


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

"""The office's actions: sessions, batches in and out, examiners, groups, declarations."""

from __future__ import annotations

import dataclasses
import io
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.domain import archives
from marking.domain.definition import parse_session_definition
from marking.errors import MarkingError
from marking.intake.batch import intake_batch, iter_batches, withdraw_batch
from marking.paper.issue import component_layout, issue_sheets
from marking.paper.layout import layout_digest, layout_text
from marking.people.examiners import import_conflicts, import_examiners
from marking.setup.assignment import assign, get_group, name_deputy, unassign
from marking.setup.sessions import create_session
from marking.store.models import Account, ExamSession, Role
from web.actions.common import plain, session_summary


def new_session(db: Session, account: Account, text: str, filename: str) -> dict[str, Any]:
    definition = parse_session_definition(text, file=filename or "session.toml")
    exam = create_session(db, definition, source=text, actor=account.username)
    return session_summary(exam)


def _unzip(data: bytes | IO[bytes], dest: Path) -> Path:
    """Unpack an uploaded batch, checked entry by entry (marking.domain.archives.BATCH);
    returns the folder holding candidates.csv/.xlsx."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    with archives.open_zip(source, name="batch.zip", limits=archives.BATCH) as archive:
        archives.unpack(archive, dest, name="batch.zip", limits=archives.BATCH)
    for stem in ("candidates.csv", "candidates.xlsx"):
        found = sorted(dest.rglob(stem), key=lambda p: len(p.parts))
        if found:
            return found[0].parent
    raise MarkingError("the zip has no candidates.csv (or .xlsx): see DESIGN §11 for a batch")


def intake(
    db: Session, exam: ExamSession, account: Account, data: bytes | IO[bytes], name: str
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="blindmark-intake-") as tmp:
        folder = _unzip(data, Path(tmp))
        summary = intake_batch(db, exam, folder, actor=account.username, name=name or None)
    taken: dict[str, Any] = plain(dataclasses.asdict(summary))
    return taken


def examiners_import(db: Session, data: bytes, filename: str, *, actor: str) -> dict[str, Any]:
    suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    with tempfile.TemporaryDirectory(prefix="blindmark-examiners-") as tmp:
        path = Path(tmp) / (Path(filename or "examiners").stem + suffix)
        path.write_bytes(data)
        result = import_examiners(db, path, actor=actor)
    return {"created": result.created, "updated": result.updated}


def examiners(db: Session) -> list[dict[str, Any]]:
    rows = db.scalars(
        select(Account).where(Account.role == Role.EXAMINER).order_by(Account.username)
    )
    out = []
    for a in rows:
        e = a.examiner
        out.append(
            {
                "username": a.username,
                "name": a.name,
                "active": a.active,
                "grade": e.grade.value if e else None,
                "certificate_expires": e.certificate_expires.isoformat() if e else None,
                "scope": [f"{s.occupation_code}:{s.level}" for s in e.scopes] if e else [],
            }
        )
    return out


def examiners_without_password(db: Session) -> int:
    """Examiner accounts that cannot log in yet: imported, never given a password."""
    return len(
        db.scalars(
            select(Account.id).where(
                Account.role == Role.EXAMINER,
                Account.active.is_(True),
                Account.password_hash.is_(None),
            )
        ).all()
    )


def assign_group(
    db: Session,
    exam: ExamSession,
    account: Account,
    group_key: str,
    usernames: Sequence[str],
    lead_username: str | None,
) -> dict[str, Any]:
    names = [u.strip() for u in usernames if u.strip()]
    if not names:
        raise MarkingError("name at least one examiner")
    result = assign(
        db,
        exam,
        get_group(db, exam, group_key),
        names,
        actor=account.username,
        lead=lead_username or None,
    )
    return dataclasses.asdict(result)


def unassign_group(
    db: Session, exam: ExamSession, account: Account, group_key: str, username: str
) -> dict[str, Any]:
    """Take an examiner off a group before marking (marking.setup.assignment.unassign)."""
    group = get_group(db, exam, group_key)
    unassign(db, exam, group, username.strip(), actor=account.username)
    taken = db.scalar(select(Account).where(Account.username == username.strip()))
    return {"username": username.strip(), "name": taken.name if taken else username}


def batches(db: Session, exam: ExamSession) -> list[dict[str, Any]]:
    """The session's intake batches as the office sees them: counts, never identities."""
    return [
        {
            "id": b.id,
            "name": b.name,
            "candidates": b.candidate_count,
            "scripts": b.script_count,
            "responses": b.response_count,
            "created_by": b.created_by,
            "created_at": plain(b.created_at),
            "withdrawn_at": plain(b.withdrawn_at) if b.withdrawn_at else None,
        }
        for b in iter_batches(db, exam)
    ]


def withdraw(
    db: Session, exam: ExamSession, account: Account, batch_id: int, reason: str
) -> dict[str, Any]:
    """Withdraw an intake batch (taken in twice, or by mistake): recorded, with its reason;
    publication then leaves its candidates out (DESIGN §3)."""
    batch = withdraw_batch(db, exam, batch_id, reason=reason.strip(), actor=account.username)
    return {"id": batch.id, "name": batch.name, "withdrawn_at": plain(batch.withdrawn_at)}


def deputy(db: Session, exam: ExamSession, account: Account, username: str) -> dict[str, Any]:
    """Name the session's deputy lead (DESIGN §14); the engine says who may be one."""
    if not username.strip():
        raise MarkingError("name the deputy lead (a username)")
    named = name_deputy(db, exam, username.strip(), actor=account.username)
    return {"deputy": named.username}


def conflicts_import(
    db: Session, exam: ExamSession, account: Account, data: bytes, filename: str
) -> dict[str, Any]:
    """Recusal declarations of examiners and leads for this session, sealed on entry."""
    suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    with tempfile.TemporaryDirectory(prefix="blindmark-conflicts-") as tmp:
        # The sender's file name (without folders), so refused rows name the file they know.
        path = Path(tmp) / (Path(filename or "conflicts").stem + suffix)
        path.write_bytes(data)
        [(_exam, count)] = import_conflicts(db, path, actor=account.username, session=exam)
    return {"declarations": count}


def sheets(
    db: Session, exam: ExamSession, account: Account, component: str, count: int
) -> tuple[bytes, str]:
    """Blank answer sheets of one of the session's components, their serials recorded as
    issued (DESIGN §12): the PDF and its file name."""
    printed = issue_sheets(db, exam, component, count, actor=account.username)
    return printed.pdf, f"{exam.code}-{component}-sheets-{len(printed.serials)}.pdf"


def sheet_layout(exam: ExamSession, component: str) -> tuple[bytes, str]:
    """The layout file of a component's sheets (DESIGN §12 "Layout for others") and its
    file name, which carries the digest each page's QR code carries."""
    layout = component_layout(exam, component)
    name = f"{exam.code}-{component}-layout-{layout_digest(layout)}.json"
    return layout_text(layout).encode("utf-8"), name

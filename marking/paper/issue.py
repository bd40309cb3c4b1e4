"""Issuing answer sheets: a session's sets printed and their serials recorded, together.

The serials go into ``IssuedSheet`` (unique in the session, by a constraint) and the
ledger records the issue: component, count, layout digest and the serials themselves, so
that ``verify`` holds the table to it (a serial slipped in or deleted behind the ledger's
back shows). Serials are not identity (random, unrelated to any candidate), so the ledger
may carry them (about 22 KB for the largest issue). The PDF is rendered before anything
is written: on SQLite the write lock is held only for the inserts, not for the rendering.
The page codes' check values are keyed with the session's own ``sheet_key`` (made with
the session, never shown), so a page code made up elsewhere fails at the scan.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.domain.definition import SessionDef, parse_session_definition
from marking.errors import NotFound, StateError
from marking.paper.codes import new_serials
from marking.paper.layout import layout_digest, sheet_layout
from marking.paper.printing import PrintedSheets, check_count, find_component, print_layout
from marking.store.models import Component, ExamSession, IssuedSheet, SessionState
from reports.sheetdata import SheetLayout

_CHUNK = 500  # serials per IN (...) query: well under every database's parameter limit


def session_definition(exam: ExamSession) -> SessionDef:
    """The session's definition as it was created (its session.toml is kept whole)."""
    return parse_session_definition(exam.definition, file=f"{exam.code}/session.toml")


def taken_serials(db: Session, exam: ExamSession, serials: Iterable[str]) -> set[str]:
    """Which of ``serials`` the session has already issued."""
    wanted = list(serials)
    taken: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        taken.update(
            db.scalars(
                select(IssuedSheet.serial).where(
                    IssuedSheet.session_id == exam.id, IssuedSheet.serial.in_(chunk)
                )
            )
        )
    return taken


def fresh_serials(
    db: Session, exam: ExamSession, count: int, *, choice: Callable[[str], str] = secrets.choice
) -> tuple[str, ...]:
    """``count`` new serials none of which the session has issued: a (very unlikely) repeat
    of an issued one is drawn again. Raises RuntimeError if the random source keeps
    repeating."""
    serials = dict.fromkeys(new_serials(count, choice=choice))
    for _round in range(10):
        taken = taken_serials(db, exam, serials)
        if not taken and len(serials) == count:
            return tuple(serials)
        for serial in taken:
            del serials[serial]
        for serial in new_serials(2 * (count - len(serials)) + 2, choice=choice):
            if len(serials) == count:
                break
            serials.setdefault(serial, None)
    raise RuntimeError("the random source keeps repeating issued serials")


def component_layout(exam: ExamSession, component: str) -> SheetLayout:
    """The layout of a component's answer sheets, with the definition's hints (``lines``,
    ``options``, ``[paper] exam_number_digits``): the same definition, the same layout.
    Raises NotFound for a component the session does not have."""
    definition = session_definition(exam)
    found = find_component(definition, component)
    return sheet_layout(
        found,
        exam_number_digits=definition.exam_number_digits,
        lines={q.number: q.lines for q in found.questions if q.lines is not None},
        options={q.number: q.options for q in found.questions if q.options is not None},
    )


def issue_sheets(
    db: Session,
    exam: ExamSession,
    component: str,
    count: int,
    *,
    actor: str,
    workers: int | None = None,
    choice: Callable[[str], str] = secrets.choice,
) -> PrintedSheets:
    """``count`` answer-sheet sets of ``component``, printed with the definition's hints
    (``lines``, ``options``, ``[paper] exam_number_digits``) and recorded as issued.

    Raises NotFound for a component the session does not have, InputError for a count
    out of range, StateError once the session is published, LayoutError when the hints
    do not fit, ReportFailed when the PDF cannot be made. Flushes; never commits.
    """
    layout = component_layout(exam, component)
    row = db.scalar(
        select(Component).where(Component.session_id == exam.id, Component.key == component)
    )
    if row is None:  # pragma: no cover - components are made from the definition
        raise NotFound(f"session {exam.code} has no component {component!r}")
    check_count(count)
    if exam.state is SessionState.PUBLISHED:
        raise StateError(f"session {exam.code} is published: no more answer sheets")
    serials = fresh_serials(db, exam, count, choice=choice)
    printed = print_layout(
        session_definition(exam), layout, serials, key=exam.sheet_key, workers=workers
    )
    digest = layout_digest(printed.layout)
    db.add_all(
        IssuedSheet(
            session_id=exam.id, component_id=row.id, serial=s, layout=digest, issued_by=actor
        )
        for s in printed.serials
    )
    db.flush()
    ledger.append(
        db,
        exam,
        kind="sheets_issued",
        actor=actor,
        payload={
            "component": component,
            "count": count,
            "layout": digest,
            "pages": len(printed.layout.pages),
            "serials": list(printed.serials),
        },
    )
    return printed

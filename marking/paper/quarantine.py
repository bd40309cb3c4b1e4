"""The office's quarantine: what the scan step would not guess, listed and resolved.

Each resolution is recorded on the item and in the ledger (its kind, the item, how it was
resolved and, for a bubble row, a fill-in, a 缺考 or 违纪 box, the value given: never an
exam number). When the last item of a batch whose files are all read is resolved, the
batch closes by itself (``closing.close_if_done``); the caller scrubs SQLite's WAL then.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError, NotFound, StateError
from marking.intake.records import ACTIONS
from marking.paper.closing import CloseSummary, close_if_done
from marking.paper.gathering import claimant, lock_batch, open_items, roster_numbers, settle
from marking.paper.issue import component_layout
from marking.store.models import (
    Component,
    ExamSession,
    QuarantineItem,
    QuarantineKind,
    QuarantineState,
    ScanAnswer,
    ScanBatch,
    ScanBatchState,
    ScanFile,
    ScanPage,
    ScanPageState,
    ScanSheet,
    ScanSheetState,
)

_PAGE_KINDS = (QuarantineKind.UNREADABLE, QuarantineKind.FOREIGN, QuarantineKind.REPEATED)
_NUMBER_KINDS = (
    QuarantineKind.EXAM_NUMBER,
    QuarantineKind.OFF_ROSTER,
    QuarantineKind.CLAIMED_TWICE,
)
_VALUE_KINDS = (
    QuarantineKind.BUBBLE_ROW,
    QuarantineKind.FILL_IN,
    QuarantineKind.ABSENT,
    QuarantineKind.VIOLATION,
)
NO_ANSWER = ("", "-")  # what the office types for a row with no bubble filled


class ResolutionRefused(MarkingError):
    """A resolution that does not fit the item (wrong kind, a value out of range, an exam
    number off the roster or claimed by another sheet). Nothing is recorded."""

    exit_code = 2


@dataclass(frozen=True)
class QuarantineRow:
    """One item as the office's list shows it: no exam number, name or ID number."""

    id: int
    kind: str
    batch: int
    serial: str | None
    source_file: str | None
    page: int | None
    question: str | None
    reason: str
    state: str
    has_crop: bool


def list_quarantine(
    db: Session, exam: ExamSession, *, batch_id: int | None = None, settled: bool = False
) -> list[QuarantineRow]:
    """The session's open items (and settled ones with ``settled``), oldest first."""
    query = (
        select(QuarantineItem, ScanSheet.serial, ScanPage.serial, ScanFile.name, ScanPage.number)
        .join(ScanBatch, ScanBatch.id == QuarantineItem.batch_id)
        .outerjoin(ScanSheet, ScanSheet.id == QuarantineItem.sheet_id)
        .outerjoin(ScanPage, ScanPage.id == QuarantineItem.page_id)
        .outerjoin(ScanFile, ScanFile.id == QuarantineItem.file_id)
        .where(ScanBatch.session_id == exam.id)
        .order_by(QuarantineItem.id)
    )
    if batch_id is not None:
        query = query.where(QuarantineItem.batch_id == batch_id)
    if not settled:
        query = query.where(QuarantineItem.state == QuarantineState.OPEN)
    return [
        QuarantineRow(
            id=item.id,
            kind=item.kind.value,
            batch=item.batch_id,
            serial=sheet_serial or page_serial,
            source_file=file_name,
            page=page_number,
            question=item.question,
            reason=item.reason,
            state=item.state.value,
            has_crop=item.crop is not None,
        )
        for item, sheet_serial, page_serial, file_name, page_number in db.execute(query)
    ]


def get_item(db: Session, exam: ExamSession, item_id: int) -> QuarantineItem:
    """The session's quarantine item ``item_id``; NotFound otherwise."""
    item = db.get(QuarantineItem, item_id)
    batch = db.get(ScanBatch, item.batch_id) if item is not None else None
    if item is None or batch is None or batch.session_id != exam.id:
        raise NotFound(f"session {exam.code} has no quarantine item {item_id}")
    return item


def item_crop(db: Session, exam: ExamSession, item_id: int) -> bytes | None:
    """The PNG the office decides from (the header for an exam number, the row for a bubble
    row): for the office only; None once the batch has closed."""
    return get_item(db, exam, item_id).crop


def resolve_item(
    db: Session,
    exam: ExamSession,
    item_id: int,
    *,
    actor: str,
    exam_no: str | None = None,
    value: str | None = None,
    discard: bool = False,
) -> tuple[QuarantineItem, CloseSummary | None]:
    """Resolve an open item with exactly one of an exam number (exam-number items), a value
    (bubble row, fill-in, 缺考 ``yes``/``no``, 违纪 action) or a discard. Recorded; closes the
    batch when it was the last thing to decide (the summary, else None).

    Raises NotFound, StateError (item settled, batch closed) or ResolutionRefused.
    Flushes; never commits.
    """
    if sum((exam_no is not None, value is not None, discard)) != 1:
        raise ResolutionRefused("give exactly one of --exam-no, --value or --discard")
    item = get_item(db, exam, item_id)
    batch = lock_batch(db, item.batch_id)  # another office may be settling it right now
    db.refresh(item)
    if batch.state is not ScanBatchState.OPEN:
        raise StateError(f"scan batch {batch.id} is closed")
    if item.state is not QuarantineState.OPEN:
        raise StateError(f"quarantine item {item.id} is already {item.state.value}")
    sheet = db.get(ScanSheet, item.sheet_id) if item.sheet_id else None
    if discard:
        how, shown = "discard", None
        _discard(db, item, sheet, actor)
    elif exam_no is not None:
        how, shown = "exam_no", None
        _give_exam_no(db, batch, item, sheet, exam_no.strip(), actor)
    else:
        assert value is not None
        how, shown = "value", _give_value(db, exam, batch, item, sheet, value, actor)
    payload: dict[str, object] = {
        "item": item.id,
        "kind": item.kind.value,
        "scan_batch": batch.id,
        "how": how,
    }
    if shown is not None:
        payload["value"] = shown
    ledger.append(db, exam, kind="quarantine_resolved", actor=actor, payload=payload)
    db.flush()
    return item, close_if_done(db, exam, batch)


def _discard(db: Session, item: QuarantineItem, sheet: ScanSheet | None, actor: str) -> None:
    """Discard: a page stays out; an incomplete sheet or one whose exam number is in doubt
    is not taken (its other items go with it); a doubtful row or fill-in is taken as not
    answered; a doubtful 缺考 as not filled; a 违纪 box leads to no violation record."""
    settle(item, QuarantineState.DISCARDED, "discarded by the office", actor)
    if item.kind in _PAGE_KINDS and item.page_id is not None:
        page = db.get(ScanPage, item.page_id)
        if page is not None:
            page.state = ScanPageState.DISCARDED
    if sheet is None:
        return
    if item.kind is QuarantineKind.INCOMPLETE or item.kind in _NUMBER_KINDS:
        sheet.state = ScanSheetState.DISCARDED
        for other in open_items(db, sheet):
            settle(
                other, QuarantineState.DISCARDED, f"its sheet was discarded (item {item.id})", actor
            )
    elif item.kind in (QuarantineKind.BUBBLE_ROW, QuarantineKind.FILL_IN):
        _answer(db, sheet, item).value = ""
    elif item.kind is QuarantineKind.ABSENT:
        sheet.absent = False


def _answer(db: Session, sheet: ScanSheet, item: QuarantineItem) -> ScanAnswer:
    answer = db.scalar(
        select(ScanAnswer).where(
            ScanAnswer.sheet_id == sheet.id, ScanAnswer.question == item.question
        )
    )
    assert answer is not None  # staged with the row or box the item is about
    return answer


def _give_exam_no(
    db: Session,
    batch: ScanBatch,
    item: QuarantineItem,
    sheet: ScanSheet | None,
    exam_no: str,
    actor: str,
) -> None:
    """The office reads the exam number off the header crop: it must be on the roster and
    no other sheet of the batch may hold it (settle that sheet first)."""
    if item.kind not in _NUMBER_KINDS or sheet is None:
        raise ResolutionRefused(
            f"quarantine item {item.id} is {item.kind.value}: --exam-no settles exam numbers only"
        )
    if exam_no not in roster_numbers(batch):
        raise ResolutionRefused(
            f"quarantine item {item.id}: that exam number is not on the batch's roster"
        )
    other = claimant(db, batch, exam_no, besides=sheet)
    if other is not None:
        raise ResolutionRefused(
            f"quarantine item {item.id}: sheet {other.serial} holds that exam number; "
            "resolve or discard that sheet's item first"
        )
    sheet.exam_no, sheet.exam_problem = exam_no, None
    settle(item, QuarantineState.RESOLVED, "exam number given by the office", actor)


def _give_value(
    db: Session,
    exam: ExamSession,
    batch: ScanBatch,
    item: QuarantineItem,
    sheet: ScanSheet | None,
    value: str,
    actor: str,
) -> str:
    """A value for a bubble row, a fill-in, the 缺考 box or the 违纪 box; the value kept."""
    if item.kind not in _VALUE_KINDS or sheet is None:
        raise ResolutionRefused(
            f"quarantine item {item.id} is {item.kind.value}: "
            + ("--exam-no or --discard" if item.kind in _NUMBER_KINDS else "--discard only")
        )
    if item.kind is QuarantineKind.BUBBLE_ROW:
        kept = _row_value(db, exam, batch, item, value)
        answer = _answer(db, sheet, item)
        answer.value, answer.verified_by = kept, actor
    elif item.kind is QuarantineKind.FILL_IN:
        kept = value.strip()
        answer = _answer(db, sheet, item)
        answer.value, answer.verified_by = kept, actor
    elif item.kind is QuarantineKind.ABSENT:
        kept = value.strip().lower()
        if kept not in ("yes", "no"):
            raise ResolutionRefused(f"quarantine item {item.id}: 缺考 (absent) is yes or no")
        sheet.absent = kept == "yes"
    else:
        kept = value.strip().lower()
        if kept not in ACTIONS:
            raise ResolutionRefused(
                f"quarantine item {item.id}: a violation's action is one of {', '.join(ACTIONS)}"
            )
        sheet.violation_action = kept
    settle(item, QuarantineState.RESOLVED, f"value {kept or '(none)'} given by the office", actor)
    return kept


def _row_value(
    db: Session, exam: ExamSession, batch: ScanBatch, item: QuarantineItem, value: str
) -> str:
    """The options the office read as filled, in the row's order ('' or '-' for none)."""
    comp = db.get(Component, batch.component_id)
    assert comp is not None and item.question is not None
    options = [
        bubble.option
        for page in component_layout(exam, comp.key).pages
        for bubble in page.bubbles
        if bubble.question == item.question
    ]
    text = value.strip().upper()
    if text in NO_ANSWER:
        return ""
    chosen = set(text)
    if not chosen <= set(options) or len(chosen) != len(text):
        raise ResolutionRefused(
            f"quarantine item {item.id}: question {item.question} has options "
            f"{''.join(options)}; give the filled ones once each, or - for none"
        )
    return "".join(o for o in options if o in chosen)

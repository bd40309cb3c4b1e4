"""The hand-over tally of each scan batch (DESIGN §12): pages received, sheets complete,
scripts made, pages and exam numbers quarantined, bubble rows verified, boxes cut. Counts
only: nothing here names a candidate, so the office's screens and `status` may show it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from marking.store.models import (
    Component,
    ExamSession,
    IntakeBatch,
    QuarantineItem,
    QuarantineKind,
    QuarantineState,
    ScanBatch,
    ScanBox,
    ScanFile,
    ScanFileState,
    ScanPage,
    ScanSheet,
    ScanSheetState,
)

_PAGE_KINDS = (QuarantineKind.UNREADABLE, QuarantineKind.FOREIGN, QuarantineKind.REPEATED)
_NUMBER_KINDS = (
    QuarantineKind.EXAM_NUMBER,
    QuarantineKind.OFF_ROSTER,
    QuarantineKind.CLAIMED_TWICE,
)


@dataclass(frozen=True)
class BatchTally:
    batch: int
    name: str
    component: str
    state: str
    candidates: int
    files: int
    files_read: int
    pages_received: int
    sheets_complete: int
    scripts: int
    pages_quarantined: int
    exam_numbers_quarantined: int
    rows_verified: int
    boxes_cut: int
    open_items: int

    @property
    def waiting(self) -> bool:
        """Sheets taken but no scripts yet: the batch closes when quarantine is empty."""
        return self.state == "open"


def tally(db: Session, exam: ExamSession) -> list[BatchTally]:
    """Every scan batch of the session, oldest first, with its counts."""
    found = []
    for batch, component in db.execute(
        select(ScanBatch, Component.key)
        .join(Component, Component.id == ScanBatch.component_id)
        .where(ScanBatch.session_id == exam.id)
        .order_by(ScanBatch.id)
    ):
        found.append(_one(db, batch, component))
    return found


def _count(db: Session, query: Select[int]) -> int:
    return int(db.scalar(query) or 0)


def _one(db: Session, batch: ScanBatch, component: str) -> BatchTally:
    files = db.execute(
        select(ScanFile.state, func.count())
        .where(ScanFile.batch_id == batch.id)
        .group_by(ScanFile.state)
    ).all()
    sheets = select(ScanSheet.id).where(ScanSheet.batch_id == batch.id).scalar_subquery()
    items = (
        select(func.count()).select_from(QuarantineItem).where(QuarantineItem.batch_id == batch.id)
    )
    scripts = 0
    if batch.intake_batch_id is not None:
        intake = db.get(IntakeBatch, batch.intake_batch_id)
        scripts = intake.script_count if intake is not None else 0
    return BatchTally(
        batch=batch.id,
        name=batch.name,
        component=component,
        state=batch.state.value,
        candidates=batch.roster_size,
        files=sum(n for _s, n in files),
        files_read=sum(n for s, n in files if s in (ScanFileState.DONE, ScanFileState.FAILED)),
        pages_received=_count(
            db,
            select(func.count())
            .select_from(ScanPage)
            .join(ScanFile, ScanFile.id == ScanPage.file_id)
            .where(ScanFile.batch_id == batch.id),
        ),
        sheets_complete=_count(
            db,
            select(func.count()).where(
                ScanSheet.batch_id == batch.id,
                ScanSheet.state.in_([ScanSheetState.COMPLETE, ScanSheetState.TAKEN]),
            ),
        ),
        scripts=scripts,
        pages_quarantined=_count(db, items.where(QuarantineItem.kind.in_(_PAGE_KINDS))),
        exam_numbers_quarantined=_count(db, items.where(QuarantineItem.kind.in_(_NUMBER_KINDS))),
        rows_verified=_count(
            db,
            items.where(
                QuarantineItem.kind == QuarantineKind.BUBBLE_ROW,
                QuarantineItem.state == QuarantineState.RESOLVED,
            ),
        ),
        boxes_cut=_count(db, select(func.count()).where(ScanBox.sheet_id.in_(sheets))),
        open_items=_count(db, items.where(QuarantineItem.state == QuarantineState.OPEN)),
    )


def render_tally(rows: list[BatchTally]) -> list[str]:
    """Lines for `blindmark status` (empty when the session has no scan batch)."""
    if not rows:
        return []
    lines = [
        "scan batches: batch component state files pages sheets scripts "
        "quarantined(pages/exam numbers) verified boxes open-items"
    ]
    for t in rows:
        note = "  (sheets taken, waiting for the batch to close)" if t.waiting else ""
        lines.append(
            f"  {t.batch} {t.component} {t.state} {t.files_read}/{t.files} {t.pages_received} "
            f"{t.sheets_complete} {t.scripts} {t.pages_quarantined}/{t.exam_numbers_quarantined} "
            f"{t.rows_verified} {t.boxes_cut} {t.open_items}{note}"
        )
    return lines

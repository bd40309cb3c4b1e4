"""One scanned page taken into its scan batch: identified, checked, staged on its sheet; and a
sheet checked when its last page is in.

Pure reading happens in the reader (``marking.paper.omr``); this module decides what becomes
of each page and writes it, inside the caller's transaction (one per page, ``scanning``).
A page's cuts and answers are staged on its sheet as the page arrives, but only a sheet
whose pages are all in is ``complete``, and only complete sheets become scripts when the
batch closes: a sheet is taken whole or not at all. Nothing doubtful is guessed: each
doubt becomes a ``QuarantineItem`` with its reason (DESIGN §12). Reasons never quote an
exam number, a name or an ID number.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from marking.paper.codes import PagePayload, PayloadError
from marking.paper.omr import PageRead
from marking.paper.reading import PageReading, PageUnreadable
from marking.paper.sources import ScanPage as PageImage
from marking.store.models import (
    Component,
    ExamSession,
    IssuedSheet,
    QuarantineItem,
    QuarantineKind,
    QuarantineState,
    ScanAnswer,
    ScanBatch,
    ScanBox,
    ScanFile,
    ScanFileContent,
    ScanFileState,
    ScanPage,
    ScanPageState,
    ScanSheet,
    ScanSheetState,
    utcnow,
)
from reports.sheetdata import FILL_BLANK, SheetLayout, SheetPage

log = logging.getLogger(__name__)

# Items that hold up a sheet's data (not pages that never joined a sheet).
SHEET_KINDS = (
    QuarantineKind.EXAM_NUMBER,
    QuarantineKind.OFF_ROSTER,
    QuarantineKind.CLAIMED_TWICE,
    QuarantineKind.BUBBLE_ROW,
    QuarantineKind.FILL_IN,
    QuarantineKind.ABSENT,
    QuarantineKind.VIOLATION,
    QuarantineKind.INCOMPLETE,
)
SYSTEM = "scan"  # who resolves an item that resolved itself (the missing page arrived)
KEY_SHARE: dict[str, bool] = {"key_share": True}  # FOR NO KEY UPDATE: see ``lock_batch``


class PageSource(Protocol):
    """The page reader the scan step drives (``scanning.OmrReader`` in production; tests
    pass a fake that hands back ``PageRead`` objects)."""

    def pages(self, path: Path, *, start: int) -> Iterator[PageImage]:
        """The file's pages in order, skipping the first ``start`` (already committed)."""
        ...

    def identify(self, scan: PageImage, *, key: bytes) -> tuple[PageReading, PagePayload]:
        """The page aligned and its code decoded: PageUnreadable or PayloadError if not."""
        ...

    def read(self, reading: PageReading, page: SheetPage, *, key: bytes) -> PageRead:
        """Bubbles, exam number, boxes and cuts of an aligned page (``key``: the session's
        page-code key, as for ``identify``)."""
        ...

    def row_crop(self, reading: PageReading, page: SheetPage, question: str) -> bytes:
        """A PNG of only that question's bubble row."""
        ...

    def thumbnail(self, scan: PageImage) -> bytes | None:
        """A small PNG of an unreadable page, for the office to recognise it."""
        ...


@dataclass
class BatchContext:
    """What every page of a batch is checked against, loaded once per file."""

    exam: ExamSession
    batch: ScanBatch
    component: str
    layout: SheetLayout
    digest: str
    roster: frozenset[str] = field(default_factory=frozenset)


def lock_batch(db: Session, batch_id: int) -> ScanBatch:
    """The batch, its row locked until the caller's transaction ends and read afresh.

    Everything that decides on the batch's sheets and items as a whole (a sheet made or
    completed, an exam number checked against the batch's other sheets, an item settled,
    the batch closed) takes this first, so that two workers or two offices at once are
    taken one after the other and each sees what the other committed: without it, two
    sheets of one exam number completed by two workers each miss the other, and two
    offices settling the last item both close the batch. (SQLite's BEGIN IMMEDIATE
    serialises writers already; the lock is for PostgreSQL.)

    FOR NO KEY UPDATE, like the file's lock (``scanning.KEY_SHARE``): rows inserted
    elsewhere that point at the batch or a file (a sheet, an item) take FOR KEY SHARE on
    them, which FOR UPDATE would block: a reader holding its file and waiting here, and
    the holder of this lock putting an item on that file's page, would deadlock."""
    batch = db.get(ScanBatch, batch_id, with_for_update=KEY_SHARE, populate_existing=True)
    assert batch is not None
    return batch


def roster_numbers(batch: ScanBatch) -> frozenset[str]:
    """The exam numbers of an open batch's roster (held in clear while it is open)."""
    return frozenset(c["exam_no"] for c in json.loads(batch.roster or "[]"))


def new_item(
    db: Session,
    batch: ScanBatch,
    kind: QuarantineKind,
    reason: str,
    *,
    sheet: ScanSheet | None = None,
    page: ScanPage | None = None,
    file: ScanFile | None = None,
    question: str | None = None,
    crop: bytes | None = None,
) -> QuarantineItem:
    """A quarantine item for the office, flushed."""
    item = QuarantineItem(
        batch_id=batch.id,
        kind=kind,
        sheet_id=sheet.id if sheet else None,
        page_id=page.id if page else None,
        file_id=page.file_id if page else (file.id if file else None),
        question=question,
        reason=reason,
        crop=crop,
    )
    db.add(item)
    db.flush()
    return item


def take_page(
    db: Session,
    ctx: BatchContext,
    file: ScanFile,
    number: int,
    scan: PageImage,
    reader: PageSource,
) -> ScanPage:
    """Identify page ``number`` of ``file``, check it belongs here, and stage it on its sheet
    (completing the sheet when it is the last page). Anything doubtful goes to quarantine."""
    page = ScanPage(file_id=file.id, number=number, state=ScanPageState.QUARANTINED)
    db.add(page)
    db.flush()
    try:
        reading, payload = reader.identify(scan, key=ctx.exam.sheet_key)
    except PageUnreadable as exc:
        new_item(
            db, ctx.batch, QuarantineKind.UNREADABLE, f"page unreadable: {exc}", page=page,
            crop=reader.thumbnail(scan),
        )  # fmt: skip
        return page
    except PayloadError as exc:
        new_item(db, ctx.batch, QuarantineKind.FOREIGN, f"{exc}", page=page)
        return page
    except Exception as exc:  # a page the reader breaks on must not stop its file for good
        _reader_failed(db, ctx, page, exc, None)
        return page
    page.serial, page.page = payload.serial, payload.page
    why = foreign_reason(db, ctx, payload)
    if why is not None:
        new_item(db, ctx.batch, QuarantineKind.FOREIGN, why, page=page)
        return page
    layout_page = ctx.layout.pages[payload.page - 1]
    try:
        read = reader.read(reading, layout_page, key=ctx.exam.sheet_key)
    except PageUnreadable as exc:
        new_item(db, ctx.batch, QuarantineKind.UNREADABLE, f"page unreadable: {exc}", page=page)
        return page
    except Exception as exc:  # as above: quarantined, the file goes on
        _reader_failed(db, ctx, page, exc, None)
        return page
    # read before the lock, so that workers on one batch read their pages side by side
    ctx.batch = lock_batch(db, ctx.batch.id)
    sheet = _sheet_for(db, ctx, payload, page)
    if sheet is None:
        return page
    page.state, page.sheet_id = ScanPageState.TAKEN, sheet.id
    db.flush()
    _stage(db, ctx, sheet, page, read, reading, layout_page, reader)
    taken = db.scalar(
        select(func.count())
        .select_from(ScanPage)
        .where(ScanPage.sheet_id == sheet.id, ScanPage.state == ScanPageState.TAKEN)
    )
    if taken == sheet.pages_needed:
        complete_sheet(db, ctx, sheet)
    return page


def drop_content(db: Session, file: ScanFile) -> None:
    """The file's stored bytes deleted by one statement: setting ``file.content`` to None
    would load them first (hundreds of megabytes) only to delete them."""
    db.execute(delete(ScanFileContent).where(ScanFileContent.file_id == file.id))
    db.expire(file, ["stored"])


def _reader_failed(
    db: Session, ctx: BatchContext, page: ScanPage, exc: Exception, crop: bytes | None
) -> None:
    """The reader failed on a page in a way it did not foresee (a bug, an image it cannot
    hold): logged with its trace for the maintainers, the page quarantined for the office
    like an unreadable one, and the file read on, rather than the file retried for ever."""
    log.error("scan page %d: the page reader failed", page.id, exc_info=exc)
    reason = f"page unreadable: the reader failed on it ({type(exc).__name__})"
    new_item(db, ctx.batch, QuarantineKind.UNREADABLE, reason, page=page, crop=crop)


def foreign_reason(db: Session, ctx: BatchContext, payload: PagePayload) -> str | None:
    """Why a page whose code reads well still does not belong in this batch, or None."""
    if payload.session != ctx.exam.code:
        return f"a page of session {payload.session}, not of {ctx.exam.code}"
    if payload.component != ctx.component:
        return f"a page of component {payload.component}, not of this batch's {ctx.component}"
    if payload.layout != ctx.digest:
        return f"printed with layout {payload.layout}, not the component's {ctx.digest}"
    if payload.page > len(ctx.layout.pages):
        return f"page {payload.page} of a sheet that has {len(ctx.layout.pages)} page(s)"
    issued = db.scalar(
        select(IssuedSheet.id)
        .join(Component, Component.id == IssuedSheet.component_id)
        .where(
            IssuedSheet.session_id == ctx.exam.id,
            IssuedSheet.serial == payload.serial,
            Component.key == ctx.component,
        )
    )
    if issued is None:
        return f"sheet serial {payload.serial} was never issued for {ctx.component}"
    return None


def _sheet_for(
    db: Session, ctx: BatchContext, payload: PagePayload, page: ScanPage
) -> ScanSheet | None:
    """The page's sheet in this batch (made on its first page), or None with the page
    quarantined: a sheet of another batch, a discarded sheet, or a page already taken."""
    sheet = db.scalar(
        select(ScanSheet).where(
            ScanSheet.session_id == ctx.exam.id, ScanSheet.serial == payload.serial
        )
    )
    if sheet is None:
        sheet = ScanSheet(
            session_id=ctx.exam.id,
            batch_id=ctx.batch.id,
            serial=payload.serial,
            pages_needed=len(ctx.layout.pages),
        )
        db.add(sheet)
        db.flush()
        return sheet
    if sheet.state is ScanSheetState.DISCARDED:
        return _start_over(db, ctx, sheet)
    why = None
    if sheet.batch_id != ctx.batch.id:
        why = f"sheet {sheet.serial} belongs to scan batch {sheet.batch_id}"
    elif sheet.state is ScanSheetState.TAKEN:
        why = f"sheet {sheet.serial} is already {sheet.state.value}"
    else:
        first = db.execute(
            select(ScanFile.name, ScanPage.number)
            .join(ScanFile, ScanFile.id == ScanPage.file_id)
            .where(
                ScanPage.sheet_id == sheet.id,
                ScanPage.page == payload.page,
                ScanPage.state == ScanPageState.TAKEN,
            )
        ).first()
        if first is not None:
            why = (
                f"page {payload.page} of sheet {sheet.serial} was already taken "
                f"({first[0]}, page {first[1]})"
            )
    if why is None:
        return sheet
    new_item(db, ctx.batch, QuarantineKind.REPEATED, why, page=page)
    return None


def _start_over(db: Session, ctx: BatchContext, sheet: ScanSheet) -> ScanSheet:
    """A sheet that was discarded (left incomplete at a close, its exam number given up, or
    scanned with the wrong room) scanned again: it starts over in this batch, its old pages
    and what they staged dropped, so that its candidate is not left absent for good. A
    sheet taken into scripts is never taken again (a photocopy's serial stays refused)."""
    db.execute(
        update(ScanPage)
        .where(ScanPage.sheet_id == sheet.id)
        .values(sheet_id=None, state=ScanPageState.DISCARDED)
    )
    db.execute(delete(ScanBox).where(ScanBox.sheet_id == sheet.id))
    db.execute(delete(ScanAnswer).where(ScanAnswer.sheet_id == sheet.id))
    sheet.batch_id, sheet.state = ctx.batch.id, ScanSheetState.GATHERING
    sheet.exam_no = sheet.exam_problem = sheet.header_png = None
    sheet.absent = sheet.violation = None
    sheet.violation_action = None
    db.flush()
    return sheet


def _stage(
    db: Session,
    ctx: BatchContext,
    sheet: ScanSheet,
    page: ScanPage,
    read: PageRead,
    reading: PageReading,
    layout_page: SheetPage,
    reader: PageSource,
) -> None:
    """The page's header, bubble rows and box cuts onto its sheet; doubtful rows and
    fill-in boxes with ink become items at once (their crops exist only now)."""
    if layout_page.header is not None:
        number = read.exam_number
        sheet.exam_no = number.digits if number else None
        sheet.exam_problem = None if number and number.digits else _problem(read)
        sheet.header_png = read.header_png
        sheet.absent, sheet.violation = read.absent, read.violation
    for question, row in read.rows.items():
        db.add(
            ScanAnswer(
                sheet_id=sheet.id,
                question=question,
                value=None if row.doubtful else "".join(row.chosen),
            )
        )
        if row.doubtful:
            new_item(
                db, ctx.batch, QuarantineKind.BUBBLE_ROW,
                f"question {question}: a bubble between the thresholds "
                f"(fills {', '.join(f'{f:.2f}' for f in row.fills)})",
                sheet=sheet, page=page, question=question,
                crop=reader.row_crop(reading, layout_page, question),
            )  # fmt: skip
    for cut in read.boxes:
        sha = hashlib.sha256(cut.png).hexdigest()
        db.add(
            ScanBox(
                sheet_id=sheet.id,
                page_id=page.id,
                question=cut.question,
                kind=cut.kind,
                png=cut.png,
                image_sha256=sha,
                blank=cut.blank,
            )
        )
        if cut.kind == FILL_BLANK:
            db.add(
                ScanAnswer(
                    sheet_id=sheet.id, question=cut.question, value="" if cut.blank else None
                )
            )
            if not cut.blank:
                new_item(
                    db, ctx.batch, QuarantineKind.FILL_IN,
                    f"question {cut.question}: a fill-in answer to type in",
                    sheet=sheet, page=page, question=cut.question, crop=cut.png,
                )  # fmt: skip
    db.flush()


def _problem(read: PageRead) -> str:
    number = read.exam_number
    if number is None:
        return "no exam-number grid read on the header page"
    return number.problem or "the exam number could not be read"


def complete_sheet(db: Session, ctx: BatchContext, sheet: ScanSheet) -> None:
    """Every page of ``sheet`` is in: check its exam number against the roster and the
    batch's other sheets, its 缺考 and 违纪 boxes; all in the caller's one transaction."""
    sheet.state = ScanSheetState.COMPLETE
    header_page = db.scalar(
        select(ScanPage).where(
            ScanPage.sheet_id == sheet.id, ScanPage.page == 1, ScanPage.state == ScanPageState.TAKEN
        )
    )
    for item in open_items(db, sheet, QuarantineKind.INCOMPLETE):
        settle(item, QuarantineState.RESOLVED, "the missing page(s) arrived", SYSTEM)
    add = _adder(db, ctx, sheet, header_page)
    if sheet.exam_no is None:
        add(QuarantineKind.EXAM_NUMBER, f"exam number unreadable: {sheet.exam_problem}")
    elif sheet.exam_no not in ctx.roster:
        add(QuarantineKind.OFF_ROSTER, "the exam number read is not on the batch's roster")
    else:
        other = claimant(db, ctx.batch, sheet.exam_no, besides=sheet)
        if other is not None:
            add(QuarantineKind.CLAIMED_TWICE, f"sheet {other.serial} claims the same exam number")
            if not open_items(db, other, QuarantineKind.CLAIMED_TWICE):
                other_page = db.scalar(
                    select(ScanPage).where(ScanPage.sheet_id == other.id, ScanPage.page == 1)
                )
                _adder(db, ctx, other, other_page)(
                    QuarantineKind.CLAIMED_TWICE,
                    f"sheet {sheet.serial} claims the same exam number",
                )
    if sheet.absent is None:
        add(QuarantineKind.ABSENT, "the 缺考 (absent) box is doubtful")
    elif sheet.absent:
        for kind in (QuarantineKind.BUBBLE_ROW, QuarantineKind.FILL_IN):
            for item in open_items(db, sheet, kind):
                settle(item, QuarantineState.DISCARDED, "the sheet is marked 缺考 (absent)", SYSTEM)
    if sheet.violation is None:
        add(QuarantineKind.VIOLATION, "the 违纪 (violation) box is doubtful")
    elif sheet.violation:
        add(QuarantineKind.VIOLATION, "the 违纪 (violation) box is filled")
    db.flush()


def _adder(
    db: Session, ctx: BatchContext, sheet: ScanSheet, page: ScanPage | None
) -> Callable[[QuarantineKind, str], None]:
    """Adds an item about ``sheet``'s header (the office sees the header crop to decide)."""

    def add(kind: QuarantineKind, reason: str) -> None:
        new_item(db, ctx.batch, kind, reason, sheet=sheet, page=page, crop=sheet.header_png)

    return add


def claimant(
    db: Session, batch: ScanBatch, exam_no: str, *, besides: ScanSheet
) -> ScanSheet | None:
    """Another complete sheet of the batch that reads or was given ``exam_no``."""
    return db.scalar(
        select(ScanSheet)
        .where(
            ScanSheet.batch_id == batch.id,
            ScanSheet.id != besides.id,
            ScanSheet.exam_no == exam_no,
            ScanSheet.state == ScanSheetState.COMPLETE,
        )
        .order_by(ScanSheet.id)
        .limit(1)
    )


def open_items(
    db: Session, sheet: ScanSheet, kind: QuarantineKind | None = None
) -> list[QuarantineItem]:
    """The sheet's open items (of ``kind``)."""
    query = select(QuarantineItem).where(
        QuarantineItem.sheet_id == sheet.id, QuarantineItem.state == QuarantineState.OPEN
    )
    if kind is not None:
        query = query.where(QuarantineItem.kind == kind)
    return list(db.scalars(query.order_by(QuarantineItem.id)))


def settle(item: QuarantineItem, state: QuarantineState, resolution: str, actor: str) -> None:
    """Close an item with its resolution (the caller records it in the ledger)."""
    item.state, item.resolution = state, resolution
    item.resolved_by, item.resolved_at = actor, utcnow()


def raise_incomplete(db: Session, batch: ScanBatch) -> int:
    """Once every file of the batch is read: an item for each sheet still lacking pages
    (unless it has one). Returns the items made."""
    made = 0
    for sheet in db.scalars(
        select(ScanSheet)
        .where(ScanSheet.batch_id == batch.id, ScanSheet.state == ScanSheetState.GATHERING)
        .order_by(ScanSheet.id)
    ):
        if open_items(db, sheet, QuarantineKind.INCOMPLETE):
            continue
        have = set(
            db.scalars(
                select(ScanPage.page).where(
                    ScanPage.sheet_id == sheet.id, ScanPage.state == ScanPageState.TAKEN
                )
            )
        )
        missing = [str(p) for p in range(1, sheet.pages_needed + 1) if p not in have]
        new_item(
            db, batch, QuarantineKind.INCOMPLETE,
            f"sheet {sheet.serial} lacks page(s) {', '.join(missing)} of {sheet.pages_needed}",
            sheet=sheet,
        )  # fmt: skip
        made += 1
    return made


def all_files_read(db: Session, batch: ScanBatch) -> bool:
    """Whether the batch has files and none is queued or being read."""
    states = set(db.scalars(select(ScanFile.state).where(ScanFile.batch_id == batch.id)))
    return bool(states) and not states & {ScanFileState.QUEUED, ScanFileState.READING}

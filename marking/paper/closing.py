"""Closing a scan batch: its taken sheets become scripts in ONE ``store_batch`` call, and the
identity held in clear while it was open (roster, exam numbers, header crops) is sealed and
erased.

Why one call at close and not a script per sheet as it completes: scripts made one by one
would get ids and timestamps in pile (seat) order; one shuffled store keeps intake's
blindness (DESIGN §3), and the CSV path and the scan path share the storing step. A
candidate on the roster without a taken sheet, or whose sheet has 缺考 filled, gets no
script: absent from the component. Objective answers are scored by the same scorers as CSV
answers (``marking.intake.questions``); answer boxes become response images, flagged blank
when they hold no ink. The caller scrubs SQLite's WAL after the commit
(``marking.store.db.scrub_wal``) so no file keeps the erased rows' old pages.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import exists, func, insert, literal, select, update
from sqlalchemy.orm import Session, defer

from marking.audit import ledger
from marking.errors import StateError
from marking.intake.questions import Paper, load_paper
from marking.intake.records import seal
from marking.intake.storing import IntakeSummary, store_batch
from marking.intake.validated import (
    Identity,
    ResponseChunk,
    ResponseRow,
    ValidatedBatch,
)
from marking.paper.gathering import SYSTEM, all_files_read, drop_content, lock_batch, settle
from marking.store.db import to_milli
from marking.store.models import (
    Component,
    ExamSession,
    Image,
    QuarantineItem,
    QuarantineKind,
    QuarantineState,
    ScanAnswer,
    ScanBatch,
    ScanBatchState,
    ScanBox,
    ScanFile,
    ScanFileState,
    ScanSheet,
    ScanSheetState,
    SealedKind,
    utcnow,
)

# A discarded item's effect on its sheet: not taken at all, or taken with the doubt dropped.
_SHEET_GOES = (
    QuarantineKind.INCOMPLETE,
    QuarantineKind.EXAM_NUMBER,
    QuarantineKind.OFF_ROSTER,
    QuarantineKind.CLAIMED_TWICE,
)


HEADERS_PER_RECORD = 100  # header crops sealed together (about 0.1-1 MB of PNG each)


@dataclass
class CloseSummary:
    batch_id: int
    intake_batch_id: int
    candidates: int
    sheets_taken: int
    absent: int
    scripts: int
    responses: int
    blank_boxes: int
    all_blank_scripts: int
    discarded: dict[str, int] = field(default_factory=dict)


def open_items(db: Session, batch: ScanBatch) -> list[QuarantineItem]:
    return list(
        db.scalars(
            select(QuarantineItem)
            .where(
                QuarantineItem.batch_id == batch.id, QuarantineItem.state == QuarantineState.OPEN
            )
            .order_by(QuarantineItem.id)
        )
    )


def close_if_done(db: Session, exam: ExamSession, batch: ScanBatch) -> CloseSummary | None:
    """Close ``batch`` by itself when its files are all read and nothing is left in
    quarantine (DESIGN §12); None when it stays open."""
    if batch.state is not ScanBatchState.OPEN or not all_files_read(db, batch):
        return None
    if open_items(db, batch):
        return None
    return close_batch(db, exam, batch, actor=SYSTEM, note="closed by itself: nothing left")


def close_batch(
    db: Session,
    exam: ExamSession,
    batch: ScanBatch,
    *,
    actor: str,
    note: str | None = None,
    shuffle_rng: random.Random | None = None,
) -> CloseSummary:
    """Close the batch: discard what is left in quarantine (recorded), make the scripts of
    its taken sheets in one ``store_batch``, seal the header crops and erase the clear
    identity. Raises StateError for a closed batch or a file still being read (a live
    lease); whatever ``store_batch`` raises. Flushes; never commits.
    """
    batch = lock_batch(db, batch.id)  # another office, or the last file read, may close it
    if batch.state is not ScanBatchState.OPEN:
        raise StateError(f"scan batch {batch.id} is already closed")
    _stop_reading(db, batch)
    discarded = _discard_rest(db, batch, actor)
    sheets = list(
        db.scalars(
            select(ScanSheet)
            .where(ScanSheet.batch_id == batch.id)
            .order_by(ScanSheet.id)
            .options(defer(ScanSheet.header_png))  # read a chunk at a time by _seal_headers
        )
    )
    for sheet in sheets:
        if sheet.state is ScanSheetState.GATHERING:
            sheet.state = ScanSheetState.DISCARDED
    taken = [s for s in sheets if s.state is ScanSheetState.COMPLETE and s.exam_no is not None]
    identities = [Identity(**c) for c in json.loads(batch.roster or "[]")]
    comp = db.get(Component, batch.component_id)
    assert comp is not None
    built = _build(db, exam, batch, identities, taken)
    summary = store_batch(db, exam, built.batch, actor=actor, shuffle_rng=shuffle_rng)
    for sheet in taken:
        sheet.state = ScanSheetState.TAKEN
    _seal_violations(db, exam, batch, comp.key, taken, actor)
    _seal_headers(db, exam, batch, sheets, actor)
    _erase(db, batch, sheets)
    batch.state, batch.closed_by, batch.closed_at = ScanBatchState.CLOSED, actor, utcnow()
    batch.close_note, batch.intake_batch_id = note, summary.batch_id
    db.flush()
    result = _summary(batch, summary, built, len(taken), discarded)
    ledger.append(
        db,
        exam,
        kind="scan_batch_closed",
        actor=actor,
        payload={
            "scan_batch": batch.id,
            "intake_batch": summary.batch_id,
            "sheets_taken": result.sheets_taken,
            "absent": result.absent,
            "scripts": result.scripts,
            "responses": result.responses,
            "blank_boxes": result.blank_boxes,
            "all_blank_scripts": result.all_blank_scripts,
            "discarded": result.discarded,
            "note": note or "",
        },
    )
    return result


def _stop_reading(db: Session, batch: ScanBatch) -> None:
    """Files not read when the office closes: refused while a reader holds a live lease,
    otherwise marked failed (their pages are not taken)."""
    now = utcnow()
    for file in db.scalars(
        select(ScanFile).where(
            ScanFile.batch_id == batch.id,
            ScanFile.state.in_([ScanFileState.QUEUED, ScanFileState.READING]),
        )
    ):
        if file.lease_until is not None and file.lease_until > now:
            raise StateError(
                f"scan file {file.name} of batch {batch.id} is being read "
                f"({file.pages_done} page(s) done); close the batch when it is read"
            )
        file.state, file.error = ScanFileState.FAILED, "not read: the batch was closed"
        drop_content(db, file)
        file.lease_owner, file.lease_until = None, None


def _discard_rest(db: Session, batch: ScanBatch, actor: str) -> dict[str, int]:
    """Every open item discarded, with its effect on its sheet; counts by kind."""
    counts: Counter[str] = Counter()
    for item in open_items(db, batch):
        settle(item, QuarantineState.DISCARDED, "discarded when the batch was closed", actor)
        counts[item.kind.value] += 1
        sheet = db.get(ScanSheet, item.sheet_id) if item.sheet_id else None
        if sheet is None:
            continue
        if item.kind in _SHEET_GOES:
            sheet.state = ScanSheetState.DISCARDED
        elif item.kind is QuarantineKind.ABSENT:
            sheet.absent = False  # taken as written: its answers are there to mark
        elif item.kind in (QuarantineKind.BUBBLE_ROW, QuarantineKind.FILL_IN):
            answer = db.scalar(
                select(ScanAnswer).where(
                    ScanAnswer.sheet_id == sheet.id, ScanAnswer.question == item.question
                )
            )
            if answer is not None and answer.value is None:
                answer.value = ""  # no answer taken: it scores 0, as an unanswered question
    db.flush()
    return dict(counts)


@dataclass
class _Built:
    batch: ValidatedBatch
    absent: int
    blank_boxes: int
    all_blank: int


def _build(
    db: Session,
    exam: ExamSession,
    batch: ScanBatch,
    identities: list[Identity],
    taken: list[ScanSheet],
) -> _Built:
    """The ValidatedBatch of the taken sheets: one response per question of the component
    for each sheet not marked 缺考, objective answers scored from the key."""
    paper = load_paper(db, exam)
    ci = next(i for i, c in enumerate(paper.components) if c.id == batch.component_id)
    index = {c.exam_no: i for i, c in enumerate(identities)}
    rows: list[ResponseRow] = []
    blank: set[str] = set()
    absent = all_blank = 0
    for sheet in taken:
        if sheet.absent:
            absent += 1
            continue
        sheet_rows, sheet_blank = _sheet_rows(db, paper, ci, index[sheet.exam_no or ""], sheet)
        for row, is_blank in sheet_rows:
            rows.append(row)
            if row[5] is not None and is_blank:
                blank.add(row[5])
        all_blank += sheet_blank
    absent += len(identities) - len(taken)
    _copy_images(db, [s.id for s in taken if not s.absent])
    digest = hashlib.sha256(f"scan-batch:{exam.id}:{batch.id}".encode()).hexdigest()
    validated = ValidatedBatch(
        name=f"scan {batch.id}: {batch.name}",
        digest=digest,
        identities=identities,
        components=paper.components,
        responses=[ResponseChunk(rows, {}, blank=blank)],
        covers=[next(c.key for c in paper.components if c.id == batch.component_id)],
        covered={index[s.exam_no or ""] for s in taken},
    )
    return _Built(validated, absent, len(blank), all_blank)


def _copy_images(db: Session, sheet_ids: list[int]) -> None:
    """The taken sheets' box PNGs into the session's images, by statements inside the
    database (one image per digest), never through this process's memory: a room's boxes
    are gigabytes of PNG."""
    box = ScanBox.__table__.c
    for start in range(0, len(sheet_ids), 500):
        chunk = sheet_ids[start : start + 500]
        firsts = (
            select(func.min(box.id))
            .where(box.sheet_id.in_(chunk), box.png.is_not(None))
            .group_by(box.image_sha256)
        )
        copied = select(
            box.image_sha256, literal("image/png"), func.length(box.png), box.png
        ).where(
            box.id.in_(firsts),
            ~exists().where(Image.__table__.c.sha256 == box.image_sha256),
        )
        db.execute(insert(Image).from_select(["sha256", "media_type", "size", "content"], copied))


def _sheet_rows(
    db: Session, paper: Paper, ci: int, cand: int, sheet: ScanSheet
) -> tuple[list[tuple[ResponseRow, bool]], bool]:
    """A sheet's responses (with each box's blank flag) and whether all are blank; the boxes'
    PNGs are not loaded (``_copy_images`` copies them in the database)."""
    answers = {
        a.question: a.value
        for a in db.scalars(select(ScanAnswer).where(ScanAnswer.sheet_id == sheet.id))
    }
    boxes = {
        question: (sha, blank)
        for question, sha, blank in db.execute(
            select(ScanBox.question, ScanBox.image_sha256, ScanBox.blank).where(
                ScanBox.sheet_id == sheet.id
            )
        )
    }
    out: list[tuple[ResponseRow, bool]] = []
    empty = True
    for (_key, number), info in paper.questions.items():
        if info.component_index != ci:
            continue
        box = boxes.get(number)
        sha = box[0] if box is not None else None
        text = (answers.get(number) or "") if info.scorer is not None else ""
        score = to_milli(info.scorer(text)) if info.scorer is not None else None
        is_blank = box[1] if box is not None else not text
        empty = empty and is_blank
        row: ResponseRow = (
            cand, ci, info.position, info.question_id, text, sha, score,
            info.group_id, info.marks_needed,
        )  # fmt: skip
        out.append((row, box is not None and box[1]))
    return out, empty


def _seal_violations(
    db: Session, exam: ExamSession, batch: ScanBatch, component: str, taken: list[ScanSheet],
    actor: str,
) -> None:  # fmt: skip
    """The 违纪 decisions the office took on taken sheets, sealed as violation records."""
    items = [
        {
            "row": f"sheet {s.serial}",
            "exam_no": s.exam_no,
            "component": component,
            "action": s.violation_action,
            "reason": f"违纪 marked on the answer sheet (scan batch {batch.id})",
        }
        for s in taken
        if s.violation_action
    ]
    if items:
        seal(db, exam, SealedKind.VIOLATION, items, actor=actor)


def _seal_headers(
    db: Session, exam: ExamSession, batch: ScanBatch, sheets: list[ScanSheet], actor: str
) -> None:
    """Every sheet's header crop and exam number, sealed (the record of who wrote which
    sheet, for an appeal or an audit); nothing of them stays in clear. A record per
    ``HEADERS_PER_RECORD`` sheets, read a chunk at a time: a room's crops are too many
    megabytes to hold at once."""
    ids = [s.id for s in sheets]
    for start in range(0, len(ids), HEADERS_PER_RECORD):
        chunk = ids[start : start + HEADERS_PER_RECORD]
        items = [
            {
                "scan_batch": batch.id,
                "serial": serial,
                "state": state.value,
                "exam_no": exam_no,
                "header_png": base64.b64encode(png).decode() if png else None,
            }
            for serial, state, exam_no, png in db.execute(
                select(ScanSheet.serial, ScanSheet.state, ScanSheet.exam_no, ScanSheet.header_png)
                .where(ScanSheet.id.in_(chunk))
                .order_by(ScanSheet.id)
            )
            if png is not None or exam_no is not None
        ]
        if items:
            seal(db, exam, SealedKind.SCAN_HEADER, items, actor=actor)


def _erase(db: Session, batch: ScanBatch, sheets: list[ScanSheet]) -> None:
    """The roster, exam numbers, header crops, quarantine crops and box PNGs (stored now as
    response images) out of the clear tables, and whatever would tie a script to its sheet."""
    batch.roster = None
    ids = [s.id for s in sheets]
    # by statements, nothing loaded: the boxes and crops are gigabytes for a large room
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        db.execute(
            update(ScanSheet).where(ScanSheet.id.in_(chunk)).values(exam_no=None, header_png=None)
        )
        # the hash is the response image's: kept, it would join each script to its sheet,
        # and the sheets' ids, files and page numbers are the pile's (seat) order (§3)
        db.execute(
            update(ScanBox).where(ScanBox.sheet_id.in_(chunk)).values(png=None, image_sha256="")
        )
        # the script's objective answers: the same join by another key
        db.execute(update(ScanAnswer).where(ScanAnswer.sheet_id.in_(chunk)).values(value=None))
    db.execute(update(QuarantineItem).where(QuarantineItem.batch_id == batch.id).values(crop=None))
    for sheet in sheets:
        db.expire(sheet, ["exam_no", "header_png"])
    db.flush()


def _summary(
    batch: ScanBatch,
    stored: IntakeSummary,
    built: _Built,
    taken: int,
    discarded: dict[str, int],
) -> CloseSummary:
    return CloseSummary(
        batch_id=batch.id,
        intake_batch_id=stored.batch_id,
        candidates=stored.candidates,
        sheets_taken=taken,
        absent=built.absent,
        scripts=stored.scripts,
        responses=stored.responses,
        blank_boxes=built.blank_boxes,
        all_blank_scripts=built.all_blank,
        discarded=discarded,
    )

"""Scan batches: a room's roster with the scanned sheets of one component (DESIGN §12).

``create_scan_batch`` takes the roster in (held in clear, for the office, only while the
batch is open), ``add_scan_file`` queues a file's bytes, and ``process_file`` reads it page
by page. Reading is resumable and idempotent: each page's outcome commits with the file's
``pages_done`` in one transaction, so a reader killed mid-file resumes after the last page
it committed, never leaving half a page and never taking a page twice. A lease
(``lease_owner``/``lease_until``, renewed with every page) keeps two readers off one file
and lets another take over once a dead reader's lease lapses. What a page becomes is
``gathering``'s business; scripts are made when the batch closes (``closing``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import InputError, InputErrors, MarkingError, NotFound, StateError
from marking.intake.reading import read_roster
from marking.intake.storing import check_open_for_intake
from marking.intake.validated import ErrorList
from marking.paper.codes import PagePayload
from marking.paper.gathering import (
    KEY_SHARE,
    BatchContext,
    PageSource,
    all_files_read,
    drop_content,
    lock_batch,
    new_item,
    raise_incomplete,
    roster_numbers,
    take_page,
)
from marking.paper.issue import component_layout
from marking.paper.layout import layout_digest
from marking.paper.omr import PageRead
from marking.paper.reading import PageReading
from marking.paper.sources import ScanPage as PageImage
from marking.store.models import (
    Component,
    ExamSession,
    QuarantineKind,
    ScanBatch,
    ScanBatchState,
    ScanFile,
    ScanFileContent,
    ScanFileState,
    utcnow,
)
from reports.sheetdata import SheetLayout, SheetPage

LEASE = dt.timedelta(minutes=5)  # renewed with every page; a page takes well under a second
Clock = Callable[[], dt.datetime]
DbFactory = Callable[[], AbstractContextManager[Session]]


class FileBusy(MarkingError):
    """Another reader holds the file's lease (it is being read)."""

    exit_code = 4


@dataclass(frozen=True)
class OmrReader:
    """The production reader: ``sources`` renders pages, ``omr`` reads them."""

    dpi: int = 200

    def pages(self, path: Path, *, start: int) -> Iterator[PageImage]:
        """The file's pages after the first ``start`` (those already taken are not rendered)."""
        from marking.paper.sources import file_pages

        return file_pages(path, dpi=self.dpi, start=start + 1)

    def identify(self, scan: PageImage, *, key: bytes) -> tuple[PageReading, PagePayload]:
        from marking.paper.omr import identify

        return identify(scan, key=key)

    def read(self, reading: PageReading, page: SheetPage, *, key: bytes) -> PageRead:
        from marking.paper.omr import read_sheet_page

        # the page's code is checked again under the session's key (omr.read_sheet_page)
        return read_sheet_page(reading, page, key=key)

    def row_crop(self, reading: PageReading, page: SheetPage, question: str) -> bytes:
        from marking.paper.omr import row_crop

        return row_crop(reading, page, question)

    def thumbnail(self, scan: PageImage) -> bytes | None:
        import cv2

        height, width = scan.image.shape[:2]
        scale = min(1.0, 600 / max(width, 1))
        small = cv2.resize(
            scan.image, (max(1, round(width * scale)), max(1, round(height * scale)))
        )
        ok, png = cv2.imencode(".png", small)
        return bytes(png) if ok else None


def find_component(db: Session, exam: ExamSession, key: str) -> Component:
    """The session's component ``key``; NotFound otherwise."""
    found = db.scalar(
        select(Component).where(Component.session_id == exam.id, Component.key == key)
    )
    if found is None:
        raise NotFound(f"session {exam.code} has no component {key!r}")
    return found


def get_scan_batch(db: Session, exam: ExamSession, batch_id: int) -> ScanBatch:
    """The session's scan batch ``batch_id``; NotFound otherwise."""
    batch = db.get(ScanBatch, batch_id)
    if batch is None or batch.session_id != exam.id:
        raise NotFound(f"session {exam.code} has no scan batch {batch_id}")
    return batch


def create_scan_batch(
    db: Session,
    exam: ExamSession,
    *,
    component: str,
    roster: Path,
    actor: str,
    name: str | None = None,
) -> ScanBatch:
    """A scan batch for ``component`` with the room's roster (``candidates.csv`` columns).

    Raises StateError when the session cannot take intake, NotFound for an unknown
    component, InputErrors for a bad roster or one naming a candidate already on an open
    scan batch of the same component (closed batches are sealed: publication refuses the
    same exam number and component twice). Flushes; never commits.
    """
    check_open_for_intake(exam)
    comp = find_component(db, exam, component)
    errors = ErrorList()
    identities = read_roster(roster, errors)
    errors.raise_if_any()
    if not identities:
        raise InputErrors([InputError(roster.name, "no candidates")])
    numbers = [c.exam_no for c in identities]
    _refuse_unfillable(roster.name, numbers, component_layout(exam, comp.key).exam_number_digits)
    _refuse_overlap(db, exam, comp, roster.name, numbers)
    batch = ScanBatch(
        session_id=exam.id,
        component_id=comp.id,
        name=(name or roster.stem)[:128],
        state=ScanBatchState.OPEN,
        roster=json.dumps(
            [c.__dict__ for c in identities], ensure_ascii=False, separators=(",", ":")
        ),
        roster_size=len(identities),
        created_by=actor,
    )
    db.add(batch)
    db.flush()
    ledger.append(
        db,
        exam,
        kind="scan_batch_created",
        actor=actor,
        payload={
            "scan_batch": batch.id,
            "component": component,
            "name": batch.name,
            "candidates": len(identities),
        },
    )
    return batch


def _refuse_unfillable(file: str, numbers: list[str], digits: int) -> None:
    """InputErrors naming the rows whose exam number the sheets' bubble grid cannot hold
    (not ``digits`` digits 0-9): every sheet of such a candidate would be read off the
    roster, so the roster is refused before anything is scanned against it."""
    errors = [
        InputError(
            file,
            f"the answer sheets' exam-number grid holds {digits} digits (0-9), not {number!r}",
            row=row,
            column="exam_no",
        )
        for row, number in enumerate(numbers, start=2)
        if len(number) != digits or not (number.isascii() and number.isdigit())
    ]
    if errors:
        raise InputErrors(errors[:50], truncated=len(errors) > 50)


def _refuse_overlap(
    db: Session, exam: ExamSession, comp: Component, file: str, numbers: list[str]
) -> None:
    """InputErrors naming the rows whose candidate is on another open batch of ``comp``."""
    errors: list[InputError] = []
    for other in db.scalars(
        select(ScanBatch).where(
            ScanBatch.session_id == exam.id,
            ScanBatch.component_id == comp.id,
            ScanBatch.state == ScanBatchState.OPEN,
        )
    ):
        taken = roster_numbers(other)
        errors.extend(
            InputError(
                file,
                f"already on the roster of open scan batch {other.id} for {comp.key}",
                row=row,
                column="exam_no",
            )
            for row, number in enumerate(numbers, start=2)
            if number in taken
        )
    if errors:
        raise InputErrors(errors[:50], truncated=len(errors) > 50)


def add_scan_file(db: Session, batch: ScanBatch, *, name: str, content: bytes) -> ScanFile:
    """Queue a scan file's bytes in an open batch. Raises StateError for a closed batch and
    MarkingError for the same file added twice. Flushes; never commits."""
    if batch.state is not ScanBatchState.OPEN:
        raise StateError(f"scan batch {batch.id} is closed")
    sha = hashlib.sha256(content).hexdigest()
    twice = db.scalar(select(ScanFile).where(ScanFile.batch_id == batch.id, ScanFile.sha256 == sha))
    if twice is not None:
        raise MarkingError(f"{name}: the same file as {twice.name} (file {twice.id}) of this batch")
    file = ScanFile(batch_id=batch.id, name=Path(name).name[:255], sha256=sha, content=content)
    db.add(file)
    db.flush()
    return file


@dataclass(frozen=True)
class FileResult:
    file_id: int
    state: str
    pages: int
    batch_closed: bool


def process_file(
    db_factory: DbFactory,
    file_id: int,
    *,
    owner: str,
    reader: PageSource | None = None,
    clock: Clock = utcnow,
    lease: dt.timedelta = LEASE,
) -> FileResult:
    """Read a queued scan file, page by page, one transaction per page; resumes at
    ``pages_done`` when a reader died mid-file. ``db_factory()`` gives a Session context
    (e.g. a ``sessionmaker``); each transaction is begun and committed here.

    Raises FileBusy when another owner's lease is live, NotFound for an unknown file. A
    file the reader cannot open (InputError) is marked failed, with a quarantine item. When
    the batch's files are all read, sheets still lacking pages go to quarantine, and a
    batch with nothing left in quarantine closes by itself (``closing.close_batch``).
    ``lease`` is how long the file stays this owner's without a page read (the jobs' lease).
    """
    reader = reader or OmrReader()
    held = _Holder(owner, clock, lease)
    name, start = _lease(db_factory, file_id, held)
    if name is None:
        return _finish(db_factory, file_id, held, error=None)
    with tempfile.TemporaryDirectory(prefix="blindmark-scan-") as folder:
        # not the file's own name: 100 Chinese characters are over Linux's 255 bytes, and
        # a name may hold anything an upload sends; the kind is read from the bytes anyway
        path = Path(folder) / f"scan-{file_id}"
        _copy_out(db_factory, file_id, path)
        try:
            for number, scan in enumerate(reader.pages(path, start=start), start=start + 1):
                _one_page(db_factory, file_id, held, number, scan, reader)
        except InputError as exc:
            said = InputError(name, exc.reason, row=exc.row, column=exc.column)
            return _finish(db_factory, file_id, held, error=str(said))
    return _finish(db_factory, file_id, held, error=None)


@dataclass(frozen=True)
class _Holder:
    """Who reads the file, the clock and how long each step keeps the file theirs."""

    owner: str
    clock: Clock
    lease: dt.timedelta


def _lease(db_factory: DbFactory, file_id: int, held: _Holder) -> tuple[str | None, int]:
    """Take the file's lease; its name (None once read) and its pages done."""
    with db_factory() as db, db.begin():
        file = db.get(ScanFile, file_id, with_for_update=KEY_SHARE)
        if file is None:
            raise NotFound(f"no scan file {file_id}")
        stored = db.scalar(
            select(ScanFileContent.file_id).where(ScanFileContent.file_id == file_id)
        )
        if file.state in (ScanFileState.DONE, ScanFileState.FAILED) or stored is None:
            return None, file.pages_done
        now, owner = held.clock(), held.owner
        if (
            file.lease_owner not in (None, owner)
            and file.lease_until is not None
            and file.lease_until > now
        ):
            raise FileBusy(f"scan file {file.name} is being read by {file.lease_owner}")
        file.lease_owner, file.lease_until = owner, now + held.lease
        file.state = ScanFileState.READING
        return file.name, file.pages_done


COPY_CHUNK = 8 << 20  # bytes of a stored file copied out at a time


def _copy_out(db_factory: DbFactory, file_id: int, path: Path) -> None:
    """The stored file's bytes into ``path``, a chunk at a time: a bundle of hundreds of
    megabytes never sits in a worker's memory whole (the reader opens it by path)."""
    content = ScanFileContent.content
    mine = ScanFileContent.file_id == file_id
    with db_factory() as db, db.begin(), path.open("wb") as out:
        size = db.scalar(select(func.length(content)).where(mine)) or 0
        for offset in range(0, size, COPY_CHUNK):
            chunk = db.scalar(select(func.substr(content, offset + 1, COPY_CHUNK)).where(mine))
            out.write(bytes(chunk or b""))


# (session code, definition text, component) -> the layout and its digest. Laying a component
# out again from its definition (parse the TOML, place every bubble) and digesting it took a
# sixth of a page's time; a definition never changes once created, so each process does it once.
_LAYOUTS: dict[tuple[str, str, str], tuple[SheetLayout, str]] = {}
_LAYOUTS_KEPT = 16


def _layout(exam: ExamSession, component: str) -> tuple[SheetLayout, str]:
    key = (exam.code, exam.definition, component)
    found = _LAYOUTS.get(key)
    if found is None:
        layout = component_layout(exam, component)
        found = _LAYOUTS[key] = (layout, layout_digest(layout))
        while len(_LAYOUTS) > _LAYOUTS_KEPT:
            _LAYOUTS.pop(next(iter(_LAYOUTS)))
    return found


def _context(db: Session, file: ScanFile) -> BatchContext:
    batch = db.get(ScanBatch, file.batch_id)
    assert batch is not None
    exam = db.get(ExamSession, batch.session_id)
    comp = db.get(Component, batch.component_id)
    assert exam is not None and comp is not None
    layout, digest = _layout(exam, comp.key)
    return BatchContext(exam, batch, comp.key, layout, digest, roster_numbers(batch))


def _held(db: Session, file_id: int, held: _Holder, *, renew: bool = True) -> ScanFile:
    """The file, locked, if ``held.owner`` still holds its lease (renewed unless ``renew``
    is False, for the caller to renew it with its own change); FileBusy if not."""
    file = db.get(ScanFile, file_id, with_for_update=KEY_SHARE, populate_existing=True)
    assert file is not None
    if file.lease_owner != held.owner or file.state is not ScanFileState.READING:
        raise FileBusy(f"scan file {file.name}: the lease passed to {file.lease_owner}")
    if renew:
        file.lease_until = held.clock() + held.lease
    return file


def _one_page(
    db_factory: DbFactory,
    file_id: int,
    held: _Holder,
    number: int,
    scan: PageImage,
    reader: PageSource,
) -> None:
    """One page's outcome and the file's progress, committed together. The lease is renewed
    with the progress, in one UPDATE of the file's row."""
    with db_factory() as db, db.begin():
        file = _held(db, file_id, held, renew=False)
        if number <= file.pages_done:  # pragma: no cover - pages() started after them
            return
        take_page(db, _context(db, file), file, number, scan, reader)
        file.pages_done, file.lease_until = number, held.clock() + held.lease


def _finish(db_factory: DbFactory, file_id: int, held: _Holder, *, error: str | None) -> FileResult:
    """The file read (or failed): its bytes dropped, incomplete sheets raised once the
    batch's files are all read, and the batch closed if nothing is left to decide."""
    from marking.paper.closing import close_if_done

    closed = False
    with db_factory() as db, db.begin():
        file = db.get(ScanFile, file_id, with_for_update=KEY_SHARE, populate_existing=True)
        assert file is not None
        if file.state is ScanFileState.READING:
            _held(db, file_id, held)
            file.state = ScanFileState.FAILED if error else ScanFileState.DONE
            file.error, file.page_count = error, file.pages_done
            drop_content(db, file)
            file.lease_owner, file.lease_until = None, None
            ctx = _context(db, file)
            ctx.batch = lock_batch(db, ctx.batch.id)  # the last two files may end at once
            if error:
                new_item(
                    db, ctx.batch, QuarantineKind.UNREADABLE, f"file unreadable: {error}", file=file
                )
            if all_files_read(db, ctx.batch):
                raise_incomplete(db, ctx.batch)
                closed = close_if_done(db, ctx.exam, ctx.batch) is not None
        result = FileResult(file.id, file.state.value, file.pages_done, closed)
        engine = db.get_bind()
    if closed:
        from marking.store.db import scrub_wal

        scrub_wal(engine)  # type: ignore[arg-type]
    return result

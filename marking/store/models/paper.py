"""The paper path's records: the answer-sheet serials issued, so that a scan can refuse a
sheet nobody printed and a photocopy (its serial is already taken by the original); and the
scan batches, their files, pages, sheets, cut boxes, read answers and quarantine items."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marking.store.db import Base
from marking.store.models.columns import UTCDateTime, stored_enum, utcnow


class IssuedSheet(Base):
    """One printed answer-sheet set: its random serial, unique in the session (the unique
    constraint holds even against a bug elsewhere), the component it is for and the digest
    of the layout it was printed with (``marking.paper.layout.layout_digest``).

    A serial is not identity: it is random, unrelated to any candidate or to the order of
    printing, and which candidate writes on which sheet is known only from the sealed header.
    """

    __tablename__ = "issued_sheet"
    __table_args__ = (UniqueConstraint("session_id", "serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    component_id: Mapped[int] = mapped_column(ForeignKey("component.id"), index=True)
    serial: Mapped[str] = mapped_column(String(16))
    layout: Mapped[str] = mapped_column(String(64))
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- scans (DESIGN §12): a room's roster and the pages of its sheets, until the batch closes ---


class ScanBatchState(enum.StrEnum):
    OPEN = "open"  # pages being read or in quarantine: the roster is held in clear
    CLOSED = "closed"  # scripts made by one store_batch; roster and header crops sealed


class ScanFileState(enum.StrEnum):
    QUEUED = "queued"
    READING = "reading"
    DONE = "done"
    FAILED = "failed"


class ScanPageState(enum.StrEnum):
    TAKEN = "taken"  # read and staged on its sheet
    QUARANTINED = "quarantined"  # unreadable, foreign or repeated: an item says why
    DISCARDED = "discarded"


class ScanSheetState(enum.StrEnum):
    GATHERING = "gathering"  # some of its pages are still missing
    COMPLETE = "complete"  # every page in; its data checked (items may still hold it)
    TAKEN = "taken"  # made into a script when the batch closed
    DISCARDED = "discarded"


class QuarantineKind(enum.StrEnum):
    UNREADABLE = "unreadable"  # no page code or corner marks; or a file that cannot be read
    FOREIGN = "foreign"  # another session, component or layout; bad check; never issued
    REPEATED = "repeated"  # a page already taken, or a sheet of another batch
    INCOMPLETE = "incomplete"  # a sheet lacks pages once every file of the batch is read
    EXAM_NUMBER = "exam_number"  # a column with no or two bubbles, or doubtful
    OFF_ROSTER = "off_roster"  # the exam number read is not on the batch's roster
    CLAIMED_TWICE = "claimed_twice"  # two sheets of the batch read the same exam number
    BUBBLE_ROW = "bubble_row"  # a fill between the thresholds: verify from the row's crop
    FILL_IN = "fill_in"  # a fill-in box with ink: the office types what it says
    ABSENT = "absent"  # the 缺考 box is doubtful
    VIOLATION = "violation"  # the 违纪 box is filled (or doubtful): the office decides


class QuarantineState(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISCARDED = "discarded"


class ScanBatch(Base):
    """An exam room's roster with the scanned sheets of one component.

    ``roster`` (JSON of the room's candidates) is the only identity kept in clear besides
    the sheets' exam numbers and header crops, and only while the batch is open: closing
    seals them (with the intake batch the closing makes, ``intake_batch_id``) and erases
    them.
    """

    __tablename__ = "scan_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("component.id"))
    name: Mapped[str] = mapped_column(String(128))
    state: Mapped[ScanBatchState] = mapped_column(
        stored_enum(ScanBatchState, 16), default=ScanBatchState.OPEN
    )
    roster: Mapped[str | None] = mapped_column(Text)
    roster_size: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    close_note: Mapped[str | None] = mapped_column(Text)
    intake_batch_id: Mapped[int | None] = mapped_column(ForeignKey("intake_batch.id"))


class ScanFile(Base):
    """A file of scans (a PDF bundle or an image) queued for reading; its bytes are kept
    only until it is read. ``pages_done`` moves with each page's commit, so a reader killed
    mid-file resumes after the last page it committed; the lease keeps two readers apart.

    The bytes live in their own row (``ScanFileContent``, read through ``content``): this
    row is updated with every page read, and SQLite reads (and rewrites) a row whole,
    megabytes of a bundle with it."""

    __tablename__ = "scan_file"
    __table_args__ = (UniqueConstraint("batch_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("scan_batch.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    page_count: Mapped[int | None] = mapped_column(Integer)
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[ScanFileState] = mapped_column(
        stored_enum(ScanFileState, 16), default=ScanFileState.QUEUED
    )
    error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stored: Mapped[ScanFileContent | None] = relationship(cascade="all, delete-orphan")

    @property
    def content(self) -> bytes | None:
        """The file's bytes until it is read (None after)."""
        return self.stored.content if self.stored is not None else None

    @content.setter
    def content(self, value: bytes | None) -> None:
        self.stored = None if value is None else ScanFileContent(content=value)


class ScanFileContent(Base):
    """A queued scan file's bytes (``ScanFile.content``), deleted once it is read."""

    __tablename__ = "scan_file_content"

    file_id: Mapped[int] = mapped_column(ForeignKey("scan_file.id"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ScanSheet(Base):
    """One answer-sheet set as its pages come in, known by its printed serial (unique in the
    session, so a photocopy or a sheet of another room is caught). ``exam_no`` and
    ``header_png`` are identity: held in clear only while the batch is open."""

    __tablename__ = "scan_sheet"
    __table_args__ = (UniqueConstraint("session_id", "serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("scan_batch.id"), index=True)
    serial: Mapped[str] = mapped_column(String(16))
    pages_needed: Mapped[int] = mapped_column(Integer)
    state: Mapped[ScanSheetState] = mapped_column(
        stored_enum(ScanSheetState, 16), default=ScanSheetState.GATHERING
    )
    exam_no: Mapped[str | None] = mapped_column(String(32))
    exam_problem: Mapped[str | None] = mapped_column(Text)
    header_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    absent: Mapped[bool | None] = mapped_column(Boolean)
    violation: Mapped[bool | None] = mapped_column(Boolean)
    violation_action: Mapped[str | None] = mapped_column(String(16))


class ScanPage(Base):
    """One page read from a file, in the file's order: what it was and what became of it."""

    __tablename__ = "scan_page"
    __table_args__ = (UniqueConstraint("file_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("scan_file.id"))
    number: Mapped[int] = mapped_column(Integer)  # from 1, in the file
    serial: Mapped[str | None] = mapped_column(String(16))
    page: Mapped[int | None] = mapped_column(Integer)  # the sheet's page, from its code
    state: Mapped[ScanPageState] = mapped_column(stored_enum(ScanPageState, 16))
    sheet_id: Mapped[int | None] = mapped_column(ForeignKey("scan_sheet.id"), index=True)


class ScanBox(Base):
    """An answer box cut from a taken page; its PNG becomes the response image at close."""

    __tablename__ = "scan_box"
    __table_args__ = (UniqueConstraint("sheet_id", "question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("scan_sheet.id"))
    page_id: Mapped[int] = mapped_column(ForeignKey("scan_page.id"))
    question: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    png: Mapped[bytes | None] = mapped_column(LargeBinary)
    image_sha256: Mapped[str] = mapped_column(String(64))
    blank: Mapped[bool] = mapped_column(Boolean, default=False)


class ScanAnswer(Base):
    """An objective answer read from bubbles (or typed by the office for a fill-in box).
    ``value`` is None while doubtful; ``verified_by`` names who settled it."""

    __tablename__ = "scan_answer"
    __table_args__ = (UniqueConstraint("sheet_id", "question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("scan_sheet.id"))
    question: Mapped[str] = mapped_column(String(16))
    value: Mapped[str | None] = mapped_column(String(255))
    verified_by: Mapped[str | None] = mapped_column(String(64))


class QuarantineItem(Base):
    """Something the office decides, with the reason and what it needs to decide (``crop``:
    the header for an exam number, only the row for a bubble row). Crops are erased when
    the batch closes; the resolution stays, and the ledger has it too."""

    __tablename__ = "quarantine_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("scan_batch.id"), index=True)
    kind: Mapped[QuarantineKind] = mapped_column(stored_enum(QuarantineKind, 16))
    sheet_id: Mapped[int | None] = mapped_column(ForeignKey("scan_sheet.id"))
    page_id: Mapped[int | None] = mapped_column(ForeignKey("scan_page.id"))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("scan_file.id"))
    question: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    crop: Mapped[bytes | None] = mapped_column(LargeBinary)
    state: Mapped[QuarantineState] = mapped_column(
        stored_enum(QuarantineState, 16), default=QuarantineState.OPEN
    )
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

"""What intake stores: batches (identities sealed), scripts, images, responses, recusal records."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from marking.store.db import Base, Marks
from marking.store.models.columns import UTCDateTime, stored_enum, utcnow


class ResponseState(enum.StrEnum):
    OPEN = "open"  # waiting for marks
    ANOMALY = "anomaly"  # flagged, out of the queue until the lead resolves it
    ARBITRATION = "arbitration"  # marks disagree beyond tolerance: the lead decides
    FINAL = "final"


class SealedKind(enum.StrEnum):
    CONFLICT = "conflict"
    VIOLATION = "violation"
    INTERVIEW = "interview"
    # Candidates the office recorded absent from the interview (R7): no panel scores wanted.
    INTERVIEW_ABSENT = "interview_absent"
    SCAN_HEADER = "scan_header"  # a closed scan batch's header crops, serials, exam numbers


class IntakeBatch(Base):
    """One intake folder. Its identity records exist only as ciphertext.

    ``identities`` is AES-256-GCM under a fresh batch key; ``sealed_key`` is that key
    sealed to the session's public key (HPKE). Both use the row's ids as associated data.
    """

    __tablename__ = "intake_batch"
    __table_args__ = (UniqueConstraint("session_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    # SHA-256 of the batch's files as received: refuses the same batch twice.
    digest: Mapped[str] = mapped_column(String(64))
    candidate_count: Mapped[int] = mapped_column(Integer)
    script_count: Mapped[int] = mapped_column(Integer)
    response_count: Mapped[int] = mapped_column(BigInteger)
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    identities: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Script(Base):
    """One candidate's paper for one component, known only by a random code.

    Deliberately no batch, timestamp or roster position: rows are created in a random
    order, so ids and codes carry no trace of who wrote the script.
    """

    __tablename__ = "script"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("component.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)


class Image(Base):
    """A response image, stored once under the SHA-256 of its bytes."""

    __tablename__ = "image"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Response(Base):
    """A script's answer to one question; objective ones are scored from the key at intake."""

    __tablename__ = "response"
    __table_args__ = (
        UniqueConstraint("script_id", "question_id"),
        # The queue looks only at open responses of a group, in their random queue order:
        # keep that set small to scan, and ordered so a claim reads from any point onward.
        Index(
            "ix_response_queue",
            "group_id",
            "queue_key",
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    script_id: Mapped[int] = mapped_column(ForeignKey("script.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    image_sha256: Mapped[str | None] = mapped_column(ForeignKey("image.sha256"))
    key_score: Mapped[Decimal | None] = mapped_column(Marks())
    # The question's marking group (NULL for objective questions), copied for the queue.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("marking_group.id"))
    # The queue's bookkeeping, kept on the row so a claim can lock and recheck it:
    # marks given, leases held, marks needed (N, or 3 once a third mark is called for).
    state: Mapped[ResponseState] = mapped_column(
        stored_enum(ResponseState, 16), default=ResponseState.OPEN, server_default="open"
    )
    marks_needed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    marks_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    final: Mapped[Decimal | None] = mapped_column(Marks())
    final_rule: Mapped[str | None] = mapped_column(String(16))
    # How many mark corrections (MarkCorrection) its marks have had, counted on the row
    # the mark path locks: a mark that waited for the lock while a correction committed
    # reads the marks again (marking.queue.marks), and one with none reads them as given.
    corrections: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The response's place in the queue: a random number written at intake, so responses
    # are handed out in an order no one chose (nor the roster's), fixed once and for all.
    # Intake always writes it; the default only covers rows made some other way.
    queue_key: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A scanned answer box with no ink: examiners still see the box, labelled blank.
    blank: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The publication revision its marks in force belong to: 1, or the appeal revision
    # that sent it back to be marked again (marks carry it as they are given).
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # A qualification item or a seed was made of it (DESIGN §13): only for such rows does
    # the queue ask whether the examiner was shown it as a check (``takeable_by``), so the
    # rest of the queue pays nothing for that question.
    check_source: Mapped[bool] = mapped_column(Boolean, server_default=false())


class PendingConflict(Base):
    """A recusal declaration waiting for the intakes of its session, known by a digest.

    ``id_digest`` is HMAC-SHA256 of the declared ID number under the session's
    ``recusal_key`` (see ``marking.intake.recusal``): every intake computes the same digest for
    each candidate of its roster, in memory, and turns a match into an ``Exclusion``. The
    row is deleted on its first match (so no digest ever sits beside the exclusions it
    would explain) and at publication; the declaration itself survives sealed
    (``SealedRecord``), for publication's check.
    """

    __tablename__ = "pending_conflict"
    __table_args__ = (UniqueConstraint("session_id", "examiner_id", "id_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    # An examiner's or a lead's account: leads are held to recusal too (DESIGN §14).
    examiner_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    id_digest: Mapped[str] = mapped_column(String(64))


class Exclusion(Base):
    """This account must never receive, nor rule on, this script (recusal, R10). No reason,
    no name. ``examiner_id`` is an examiner's account, or a lead's (DESIGN §14)."""

    __tablename__ = "exclusion"

    script_id: Mapped[int] = mapped_column(ForeignKey("script.id"), primary_key=True)
    examiner_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)


class SealedRecord(Base):
    """Something naming a candidate that arrived on its own (conflict, violation, interview
    score), sealed to the session's public key the moment it entered."""

    __tablename__ = "sealed_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    kind: Mapped[SealedKind] = mapped_column(stored_enum(SealedKind, 16))
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # How many items it seals (rows of a file, one for a browser entry): shown in clear, as
    # the ledger already records it; None for records from before the column.
    item_count: Mapped[int | None] = mapped_column(Integer)

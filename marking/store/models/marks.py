"""Marking: leases, marks and their withdrawals, the lead's rulings, anomalies, key corrections."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from marking.store.db import Base, Marks
from marking.store.models.columns import UTCDateTime, stored_enum, utcnow


class LeaseState(enum.StrEnum):
    HELD = "held"
    SUBMITTED = "submitted"
    EXPIRED = "expired"
    RELEASED = "released"  # handed back: flagged as an anomaly, or the examiner let go


class MarkKind(enum.StrEnum):
    DOUBLE = "double"  # one of the N independent marks
    THIRD = "third"


class AnomalyKind(enum.StrEnum):
    BLANK = "blank"
    ILLEGIBLE = "illegible"
    IDENTIFYING_MARK = "identifying_mark"
    SUSPECTED_COPYING = "suspected_copying"
    QUESTION_ERROR = "question_error"
    KEY_ERROR = "key_error"
    OTHER = "other"


class AnomalyResolution(enum.StrEnum):
    REQUEUE = "requeue"
    FINAL = "final"
    KEY_CORRECTION = "key_correction"


class Lease(Base):
    """A claim on one response by one examiner, valid until ``expires_at``."""

    __tablename__ = "lease"
    __table_args__ = (
        # An examiner holds a response at most once at a time, whatever the code does.
        Index(
            "uq_lease_held",
            "response_id",
            "examiner_id",
            unique=True,
            sqlite_where=text("state = 'held'"),
            postgresql_where=text("state = 'held'"),
        ),
        Index("ix_lease_state_expires", "state", "expires_at"),
        Index("ix_lease_examiner_state", "examiner_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"))
    state: Mapped[LeaseState] = mapped_column(stored_enum(LeaseState, 16), default=LeaseState.HELD)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Mark(Base):
    """One examiner's mark on one response. Never updated; withdrawals are their own rows."""

    __tablename__ = "mark"
    __table_args__ = (
        # R3: independent marks from distinct examiners, enforced by the schema itself.
        UniqueConstraint("response_id", "examiner_id"),
        CheckConstraint("value >= 0", name="value_non_negative"),
        # An examiner's marks in the order made ("correct my last mark"), and in one group
        # (a 回评 picks one at a random point of them, marking.quality.remarks, by a short
        # walk, never a read of their whole history).
        Index("ix_mark_examiner_id", "examiner_id", "id"),
        Index("ix_mark_examiner_group", "examiner_id", "group_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"))
    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"))
    # The response's marking group, recorded with the mark. Every mark has one: the column
    # allows null only because it was added to tables in use (migration 0027 filled it in).
    group_id: Mapped[int | None] = mapped_column(ForeignKey("marking_group.id"))
    kind: Mapped[MarkKind] = mapped_column(stored_enum(MarkKind, 16))
    value: Mapped[Decimal] = mapped_column(Marks())
    lease_id: Mapped[int] = mapped_column(ForeignKey("lease.id"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # The publication revision the mark was given for (1, or an appeal revision's number).
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class MarkWithdrawal(Base):
    """A mark taken out of reconciliation (late-declared conflict, suspended examiner), or
    superseded by an appeal revision that sends its response to be marked again."""

    __tablename__ = "mark_withdrawal"

    mark_id: Mapped[int] = mapped_column(ForeignKey("mark.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when an appeal revision superseded the mark: it still counts for the revisions
    # published before that one (their registers and exports), NULL for other withdrawals.
    revision: Mapped[int | None] = mapped_column(Integer)


class MarkCorrection(Base):
    """A correction of a mark (R6, 第七条(八)): a new record naming the mark, never an update.

    ``seq`` numbers the corrections of one mark from 1: a correction of a corrected mark
    is the next one, and the latest (highest ``seq``) is in force (``effective_value``).
    Unique per mark, so two corrections racing on one mark cannot both be "the next".
    ``old_value`` is the value it replaces (the mark's, or the previous correction's).
    """

    __tablename__ = "mark_correction"
    __table_args__ = (
        UniqueConstraint("mark_id", "seq"),
        CheckConstraint("value >= 0", name="value_non_negative"),
        CheckConstraint("seq >= 1", name="seq_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mark_id: Mapped[int] = mapped_column(ForeignKey("mark.id"))
    seq: Mapped[int] = mapped_column(Integer)
    old_value: Mapped[Decimal] = mapped_column(Marks())
    value: Mapped[Decimal] = mapped_column(Marks())
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


def effective_value() -> ColumnElement[Decimal]:
    """A mark's effective value as SQL: its latest correction's value, or its own (R6).

    The one definition every reader of marks uses (the queue, the session-wide numpy
    check, exports, reports): select it beside ``Mark`` in place of ``Mark.value``."""
    latest = (
        select(MarkCorrection.value)
        .where(MarkCorrection.mark_id == Mark.id)
        .order_by(MarkCorrection.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(latest, Mark.value, type_=Marks())


def latest_corrections() -> Subquery:
    """(mark_id, value) of each corrected mark's latest correction, as a subquery.

    For readers of many marks (the session-wide check, exports, statistics): outer-join it
    on ``mark_id`` and read ``func.coalesce(latest.c.value, Mark.value)``, one hash join
    rather than ``effective_value``'s lookup per mark (millions at publication)."""
    last = (
        select(MarkCorrection.mark_id, func.max(MarkCorrection.seq).label("seq"))
        .group_by(MarkCorrection.mark_id)
        .subquery("last_seq")
    )
    return (
        select(MarkCorrection.mark_id, MarkCorrection.value)
        .join(last, (last.c.mark_id == MarkCorrection.mark_id) & (last.c.seq == MarkCorrection.seq))
        .subquery("latest_correction")
    )


class Arbitration(Base):
    """The lead examiner's final mark where marks disagree (R14: final).

    A response has at most one arbitration in force; an earlier one may stand withdrawn
    beside it (``RulingWithdrawal``: the marks it ruled between were withdrawn, or the
    lead was conflicted), so the response id is not unique here.
    """

    __tablename__ = "arbitration"
    __table_args__ = (CheckConstraint("value >= 0", name="value_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    value: Mapped[Decimal] = mapped_column(Marks())
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Anomaly(Base):
    """A response an examiner reported instead of marking (R4); the lead resolves it."""

    __tablename__ = "anomaly"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"))
    kind: Mapped[AnomalyKind] = mapped_column(stored_enum(AnomalyKind, 24))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolution: Mapped[AnomalyResolution | None] = mapped_column(stored_enum(AnomalyResolution, 16))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    final_value: Mapped[Decimal | None] = mapped_column(Marks())
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class RulingWithdrawal(Base):
    """A lead's ruling taken out of force (R6: recorded, never deleted): an arbitration, or
    an anomaly resolved with a final mark. Either a mark it rested on was withdrawn (a
    late-declared conflict), or the lead who gave it was conflicted; the response goes
    back to be marked and reconciled again."""

    __tablename__ = "ruling_withdrawal"
    __table_args__ = (
        CheckConstraint("(arbitration_id IS NULL) <> (anomaly_id IS NULL)", name="one_ruling"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    arbitration_id: Mapped[int | None] = mapped_column(ForeignKey("arbitration.id"), unique=True)
    anomaly_id: Mapped[int | None] = mapped_column(ForeignKey("anomaly.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when an appeal revision superseded the ruling (as MarkWithdrawal.revision).
    revision: Mapped[int | None] = mapped_column(Integer)


class KeyCorrection(Base):
    """A corrected key of an objective question; its responses are re-scored."""

    __tablename__ = "key_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    old_answer: Mapped[list[str]] = mapped_column(JSON)
    new_answer: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[int] = mapped_column(ForeignKey("account.id"))
    rescored: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

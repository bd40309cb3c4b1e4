"""What is kept in clear beside the sealed violation and interview records: withdrawals of a
wrongly entered record, and collective violation decisions waiting for the guidance centre."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marking.store.db import Base
from marking.store.models.columns import UTCDateTime, utcnow


class RecordWithdrawal(Base):
    """The office withdrew a sealed violation or interview record (entered wrongly: an exam
    number in no batch, a conflicted panel member): publication leaves it out. The record
    itself stays, sealed, for the archive; nothing is deleted."""

    __tablename__ = "record_withdrawal"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("sealed_record.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    withdrawn_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CollectiveDecision(Base):
    """One decision on several candidates (集体违纪, R13, 第七条(五)): the rows of a violations
    record sharing a ``collective`` id. Kept in clear without exam numbers: its id, how many
    candidates, who decided, the sealed record holding the rows, and the guidance centre's
    approval, which publication waits for."""

    __tablename__ = "collective_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("sealed_record.id"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    candidates: Mapped[int] = mapped_column(Integer)
    decided_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    approval_note: Mapped[str] = mapped_column(Text, default="")

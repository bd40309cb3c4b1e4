"""Publication: the director's approvals, the one publication, the candidates' results."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marking.store.db import Base, Marks
from marking.store.models.columns import UTCDateTime, utcnow


class Publication(Base):
    """The one publication of a session: who, who approved, and digests that pin it."""

    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), unique=True)
    published_by: Mapped[int] = mapped_column(ForeignKey("account.id"))
    approved_by: Mapped[int] = mapped_column(ForeignKey("account.id"))
    results_sha256: Mapped[str] = mapped_column(String(64))
    ledger_head: Mapped[str] = mapped_column(String(64))
    candidates: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Result(Base):
    """A candidate's published result. Exists only after publication, so clear text is fine."""

    __tablename__ = "result"
    __table_args__ = (UniqueConstraint("session_id", "exam_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    exam_no: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    id_number: Mapped[str] = mapped_column(String(64))
    institution: Mapped[str] = mapped_column(String(255), default="")
    outcome: Mapped[str] = mapped_column(String(16))
    # {component: {"code": str | None, "score": "73.5" | None}}
    components: Mapped[dict[str, Any]] = mapped_column(JSON)
    interview_score: Mapped[Decimal | None] = mapped_column(Marks())


class PublicationApproval(Base):
    """A director's approval of a session's publication (R16), recorded before the office
    publishes; withdrawn approvals stay with ``withdrawn_at`` set."""

    __tablename__ = "publication_approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    director_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # What the director approved (R16): the SHA-256 over everything the results are
    # computed from, and one digest per part of it, so publication can say what changed
    # since. NULL for approvals recorded before digests existed: they count as void.
    digest: Mapped[str | None] = mapped_column(String(64))
    parts: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))

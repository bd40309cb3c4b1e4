"""Publication: the director's approvals, the publications (revision 1, then each appeal
revision), the candidates' results per revision, and the revisions (复核) themselves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marking.store.db import Base, Marks
from marking.store.models.columns import UTCDateTime, utcnow


class Publication(Base):
    """A publication of a session: who, who approved, and digests that pin it. Revision 1 is
    the session's publication as one batch; each appeal revision (2, 3, ...) is published
    as a complete result set of its own, with its own results digest and ledger head."""

    __tablename__ = "publication"
    __table_args__ = (UniqueConstraint("session_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    published_by: Mapped[int] = mapped_column(ForeignKey("account.id"))
    approved_by: Mapped[int] = mapped_column(ForeignKey("account.id"))
    results_sha256: Mapped[str] = mapped_column(String(64))
    ledger_head: Mapped[str] = mapped_column(String(64))
    candidates: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Result(Base):
    """A candidate's published result in one revision (every revision holds every candidate).
    Exists only after publication, so clear text is fine."""

    __tablename__ = "result"
    __table_args__ = (UniqueConstraint("session_id", "revision", "exam_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    exam_no: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    id_number: Mapped[str] = mapped_column(String(64))
    institution: Mapped[str] = mapped_column(String(255), default="")
    outcome: Mapped[str] = mapped_column(String(16))
    # {component: {"code": str | None, "score": "73.5" | None}}
    components: Mapped[dict[str, Any]] = mapped_column(JSON)
    interview_score: Mapped[Decimal | None] = mapped_column(Marks())
    # The panel's verdict (R7) as publication decided it, for a revision to recompute the
    # outcome without unsealing the panel again; NULL without an interview (and before
    # revisions existed).
    interview_passed: Mapped[bool | None] = mapped_column(Boolean)


class PublicationApproval(Base):
    """A director's approval of a session's publication (R16), recorded before the office
    publishes; withdrawn approvals stay with ``withdrawn_at`` set."""

    __tablename__ = "publication_approval"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    # Which publication it approves: 1, the session's, or an appeal revision's number.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    director_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # What the director approved (R16): the SHA-256 over everything the results are
    # computed from, and one digest per part of it, so publication can say what changed
    # since. NULL for approvals recorded before digests existed: they count as void.
    digest: Mapped[str | None] = mapped_column(String(64))
    parts: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))


class Revision(Base):
    """An appeal revision (复核, DESIGN §14) of a published session: the office reopens named
    candidates' components; their examiner-marked responses are marked again, approved by a
    director and published as revision ``number`` (2, 3, ...). Open until ``published_at``."""

    __tablename__ = "revision"
    __table_args__ = (UniqueConstraint("session_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    # The exam numbers (public since publication) and, per exam number, the component keys.
    candidates: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    opened_by: Mapped[int] = mapped_column(ForeignKey("account.id"))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class RevisedResponse(Base):
    """A response a revision sent back to be marked, with the final it had until then (R6:
    the earlier revision's final stays on record, not overwritten)."""

    __tablename__ = "revised_response"

    revision_id: Mapped[int] = mapped_column(ForeignKey("revision.id"), primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), primary_key=True)
    prior_final: Mapped[Decimal | None] = mapped_column(Marks())
    prior_rule: Mapped[str | None] = mapped_column(String(16))

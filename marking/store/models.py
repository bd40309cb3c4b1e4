"""The schema: typed SQLAlchemy models whose constraints carry the invariants too.

Blindness starts here: no table holds a candidate's name, ID number or exam number in
clear. Identities live only inside ``IntakeBatch.identities`` and ``SealedRecord``
(AES-256-GCM, batch key sealed to the session's public key). Scripts carry random
codes and no batch, time or roster position.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from marking.domain.definition import DEFAULT_MAX_HELD, QuestionType
from marking.queue.handles import new_key
from marking.store.db import Base, Marks


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_recusal_key() -> bytes:
    return secrets.token_bytes(32)


def _enum(cls: type[enum.Enum], length: int = 32) -> Enum:
    # Stored by value as VARCHAR + CHECK: portable, readable in a dump, and Alembic-friendly.
    return Enum(
        cls,
        name=cls.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC timestamps on both databases (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: blindmark stores UTC-aware timestamps only")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Role(enum.StrEnum):
    ADMIN = "admin"
    OFFICE = "office"
    DIRECTOR = "director"
    LEAD = "lead"
    EXAMINER = "examiner"


class Grade(enum.StrEnum):
    EXAMINER = "examiner"
    SENIOR = "senior"


class SessionState(enum.StrEnum):
    DRAFT = "draft"
    INTAKE = "intake"
    MARKING = "marking"
    RECONCILED = "reconciled"
    PUBLISHED = "published"


class Custody(enum.StrEnum):
    KEY_FILE = "key_file"
    SHARES = "shares"


class Relation(enum.StrEnum):
    RELATIVE = "relative"
    TEACHER_STUDENT = "teacher_student"
    MASTER_APPRENTICE = "master_apprentice"
    OTHER = "other"


class ResponseState(enum.StrEnum):
    OPEN = "open"  # waiting for marks
    ANOMALY = "anomaly"  # flagged, out of the queue until the lead resolves it
    ARBITRATION = "arbitration"  # marks disagree beyond tolerance: the lead decides
    FINAL = "final"


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


class SealedKind(enum.StrEnum):
    CONFLICT = "conflict"
    VIOLATION = "violation"
    INTERVIEW = "interview"


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[Role] = mapped_column(_enum(Role, 16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    examiner: Mapped[Examiner | None] = relationship(back_populates="account")


class Examiner(Base):
    """An examiner's certificate (R9, R11); examiners may also lead a session."""

    __tablename__ = "examiner"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    certificate_no: Mapped[str] = mapped_column(String(64), unique=True)
    certificate_expires: Mapped[dt.date] = mapped_column(Date)
    grade: Mapped[Grade] = mapped_column(_enum(Grade, 16))
    institution: Mapped[str] = mapped_column(String(255), default="")

    account: Mapped[Account] = relationship(back_populates="examiner")
    scopes: Mapped[list[ExaminerScope]] = relationship(
        back_populates="examiner",
        cascade="all, delete-orphan",
        order_by="ExaminerScope.occupation_code",
    )


class ExaminerScope(Base):
    __tablename__ = "examiner_scope"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),)

    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"), primary_key=True)
    occupation_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)

    examiner: Mapped[Examiner] = relationship(back_populates="scopes")


class ExamSession(Base):
    """An occupation at a level on a date at a station; holds only its public key."""

    __tablename__ = "exam_session"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
        CheckConstraint(
            "threshold IS NULL OR (threshold >= 1 AND threshold <= custodians)", name="threshold"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    occupation: Mapped[str] = mapped_column(String(128))
    occupation_code: Mapped[str] = mapped_column(String(32))
    level: Mapped[int] = mapped_column(Integer)
    date: Mapped[dt.date] = mapped_column(Date)
    station: Mapped[str] = mapped_column(String(64))
    state: Mapped[SessionState] = mapped_column(_enum(SessionState, 16), default=SessionState.DRAFT)
    definition: Mapped[str] = mapped_column(Text)  # the session.toml as given, for the record
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    custody: Mapped[Custody | None] = mapped_column(_enum(Custody, 16))
    custodians: Mapped[int | None] = mapped_column(Integer)
    threshold: Mapped[int | None] = mapped_column(Integer)
    # The lead examiner (R14): approves schemes, resolves anomalies, arbitrates.
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    # The deputy lead (DESIGN §14): rules on the responses the lead is excluded from.
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    # Keys the digests of recusal declarations waiting for a later intake (PendingConflict);
    # NULL only for a session made before it existed, until it is first needed.
    recusal_key: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=new_recusal_key)
    # The key of the session's response and anomaly handles (marking/queue/handles.py): examiners
    # and leads address responses by handles, never by sequential row ids.
    handle_key: Mapped[bytes] = mapped_column(LargeBinary(16), default=new_key)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    groups: Mapped[list[MarkingGroup]] = relationship(
        back_populates="session", order_by="MarkingGroup.id"
    )
    components: Mapped[list[Component]] = relationship(
        back_populates="session", order_by="Component.position"
    )


class MarkingGroup(Base):
    """A station of the assembly line: questions of one type (or finer), marked N times."""

    __tablename__ = "marking_group"
    __table_args__ = (
        UniqueConstraint("session_id", "key"),
        CheckConstraint("marks_required >= 2", name="at_least_two_marks"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    marks_required: Mapped[int] = mapped_column(Integer, default=2)
    # The most responses of this group one examiner may hold at once (the queue is fair).
    max_held: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_MAX_HELD, server_default=str(DEFAULT_MAX_HELD)
    )
    # R5: nothing is handed out before the lead approves the marking scheme.
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    session: Mapped[ExamSession] = relationship(back_populates="groups")


class Component(Base):
    __tablename__ = "component"
    __table_args__ = (UniqueConstraint("session_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    key: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer)

    session: Mapped[ExamSession] = relationship(back_populates="components")
    questions: Mapped[list[Question]] = relationship(
        back_populates="component", order_by="Question.position"
    )


class Question(Base):
    __tablename__ = "question"
    __table_args__ = (
        UniqueConstraint("component_id", "number"),
        CheckConstraint("max > 0", name="max_positive"),
        CheckConstraint("step > 0", name="step_positive"),
        CheckConstraint("max % step = 0", name="max_on_step"),
        CheckConstraint("tolerance >= 0", name="tolerance_non_negative"),
        CheckConstraint("(answer IS NULL) = (group_id IS NOT NULL)", name="objective_xor_group"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("component.id"), index=True)
    number: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    bank_item: Mapped[str] = mapped_column(String(64))
    type: Mapped[QuestionType] = mapped_column(_enum(QuestionType, 24))
    max: Mapped[Decimal] = mapped_column(Marks())
    step: Mapped[Decimal] = mapped_column(Marks())
    tolerance: Mapped[Decimal] = mapped_column(Marks())
    group_id: Mapped[int | None] = mapped_column(ForeignKey("marking_group.id"), index=True)
    reference: Mapped[str] = mapped_column(Text, default="")
    scheme: Mapped[str] = mapped_column(Text, default="")
    # Accepted answers of an objective question (normalised); NULL for examiner-marked ones.
    answer: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))

    component: Mapped[Component] = relationship(back_populates="questions")
    group: Mapped[MarkingGroup | None] = relationship()


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
        _enum(ResponseState, 16), default=ResponseState.OPEN, server_default="open"
    )
    marks_needed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    marks_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    final: Mapped[Decimal | None] = mapped_column(Marks())
    final_rule: Mapped[str | None] = mapped_column(String(16))
    # The response's place in the queue: a random number written at intake, so responses
    # are handed out in an order no one chose (nor the roster's), fixed once and for all.
    # Intake always writes it; the default only covers rows made some other way.
    queue_key: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


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
    kind: Mapped[SealedKind] = mapped_column(_enum(SealedKind, 16))
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChainLink:
    """The columns of one link of a hash chain: a session's ledger or the account ledger."""

    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LedgerEntry(ChainLink, Base):
    """One link of a session's append-only hash chains (DESIGN §7).

    A session's ledger is one chain per actor (``lane``): each account's actions are
    naturally sequential, so examiners marking in parallel never wait on one another,
    while every entry is still chained to the one before it. The session's ledger head
    is the SHA-256 over all lanes' last hashes.
    """

    __tablename__ = "ledger_entry"
    __table_args__ = (UniqueConstraint("session_id", "lane", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    lane: Mapped[str] = mapped_column(String(80))


class LedgerLane(Base):
    """The tip of one lane of a session's ledger: its last sequence number and hash.

    Appending locks this row (one writer per lane at a time, whatever the database) and
    reads the tip from it instead of searching the entries; ``verify`` checks that every
    tip is the last entry of its chain, so cutting entries off a lane's end shows too.
    """

    __tablename__ = "ledger_lane"

    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), primary_key=True)
    lane: Mapped[str] = mapped_column(String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Assignment(Base):
    """An examiner on a marking group of a session (R2, R9, R10, R11 checked on creation)."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("group_id", "examiner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("marking_group.id"))
    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"), index=True)
    suspended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


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
    state: Mapped[LeaseState] = mapped_column(_enum(LeaseState, 16), default=LeaseState.HELD)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Mark(Base):
    """One examiner's mark on one response. Never updated; withdrawals are their own rows."""

    __tablename__ = "mark"
    __table_args__ = (
        # R3: independent marks from distinct examiners, enforced by the schema itself.
        UniqueConstraint("response_id", "examiner_id"),
        CheckConstraint("value >= 0", name="value_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"))
    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"), index=True)
    kind: Mapped[MarkKind] = mapped_column(_enum(MarkKind, 16))
    value: Mapped[Decimal] = mapped_column(Marks())
    lease_id: Mapped[int] = mapped_column(ForeignKey("lease.id"), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class MarkWithdrawal(Base):
    """A mark taken out of reconciliation (late-declared conflict, suspended examiner)."""

    __tablename__ = "mark_withdrawal"

    mark_id: Mapped[int] = mapped_column(ForeignKey("mark.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


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


class Anomaly(Base):
    """A response an examiner reported instead of marking (R4); the lead resolves it."""

    __tablename__ = "anomaly"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), index=True)
    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"))
    kind: Mapped[AnomalyKind] = mapped_column(_enum(AnomalyKind, 24))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolution: Mapped[AnomalyResolution | None] = mapped_column(_enum(AnomalyResolution, 16))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    final_value: Mapped[Decimal | None] = mapped_column(Marks())


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


# --- the web application's own records ------------------------------------------------------


class LoginAttempt(Base):
    """A login attempt, kept in the database so throttling holds across server processes.

    ``scope`` is ``account`` (the username tried) or ``address`` (the client's address);
    each attempt is written once per scope.
    """

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_scope_key_at", "scope", "key", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128))
    success: Mapped[bool] = mapped_column()
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LoginThrottle(Base):
    """The failed-login count of one throttling bucket: an account name tried from browsers
    it does not know, a client address, or one trusted browser of an account (``device``).

    Every attempt locks its buckets' rows and counts itself before the password is checked,
    so concurrent attempts cannot slip past the limit (web/security.py).
    """

    __tablename__ = "login_throttle"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class KeyCustodian(Base):
    """A custodian of one share of a session's key made in the browser, and whether they
    have taken it. Their wrapped share waits in ``CustodyShare`` until then."""

    __tablename__ = "key_custodian"
    __table_args__ = (
        UniqueConstraint("session_id", "account_id"),
        UniqueConstraint("session_id", "share_index"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    share_index: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    downloaded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship()


class CustodyShare(Base):
    """A custodian's share until they download it: AES-GCM under a key derived from the
    application's secret key, which the database does not hold. Deleted at download."""

    __tablename__ = "custody_share"

    custodian_id: Mapped[int] = mapped_column(ForeignKey("key_custodian.id"), primary_key=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)


class WebLogin(Base):
    """A browser login. The cookie holds the random token; only its SHA-256 is stored, so a
    copy of the database opens no session. Ended at logout, idle timeout or disabling."""

    __tablename__ = "web_login"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A bearer token for scripted clients, stored as the SHA-256 of its random value."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


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


# --- account changes (no exam session): their ledger and the four-eyes requests ---------------


class AccountLedgerEntry(ChainLink, Base):
    """One link of the account ledger: every account change, in one hash chain of its own.

    Accounts belong to no exam session, so their changes cannot join a session's lanes;
    they are rare, so one chain (with its tip row, ``AccountLedgerTip``) is enough. Hashed
    exactly as a session's entries are, with session 0 and lane ``accounts``.
    """

    __tablename__ = "account_ledger_entry"
    __table_args__ = (UniqueConstraint("seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)


class AccountLedgerTip(Base):
    """The account ledger's tip (one row): locked while appending, checked by verify."""

    __tablename__ = "account_ledger_tip"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class AccountChange(enum.StrEnum):
    CREATE = "create"
    ROLE = "role"
    PASSWORD = "password"


class AccountDecision(enum.StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class AccountRequest(Base):
    """An admin's request to give an account power over publication (a director, office or
    admin account; or a new password for one), waiting for a second admin (four eyes).

    The new password is kept only as its argon2 hash, and only until the request is decided.
    """

    __tablename__ = "account_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    change: Mapped[AccountChange] = mapped_column(_enum(AccountChange, 16))
    role: Mapped[Role | None] = mapped_column(_enum(Role, 16))
    name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    requested_by: Mapped[int] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decision: Mapped[AccountDecision | None] = mapped_column(_enum(AccountDecision, 16))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

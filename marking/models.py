"""The schema: typed SQLAlchemy models whose constraints carry the invariants too.

Blindness starts here: no table holds a candidate's name, ID number or exam number in
clear. Identities live only inside ``IntakeBatch.identities`` and ``SealedRecord``
(AES-256-GCM, batch key sealed to the session's public key). Scripts carry random
codes and no batch, time or roster position.
"""

from __future__ import annotations

import datetime as dt
import enum
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
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from marking.db import Base, Marks
from marking.definition import QuestionType


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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
    __table_args__ = (UniqueConstraint("script_id", "question_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    script_id: Mapped[int] = mapped_column(ForeignKey("script.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    image_sha256: Mapped[str | None] = mapped_column(ForeignKey("image.sha256"))
    key_score: Mapped[Decimal | None] = mapped_column(Marks())


class PendingConflict(Base):
    """A recusal declared before intake, readable by the next intake of its session only.

    Intake turns a match into an ``Exclusion`` and deletes the row (the declaration
    survives sealed, see ``SealedRecord``); what is still pending when marking opens is
    deleted then. So no declaration about an ingested candidate stays in clear.
    """

    __tablename__ = "pending_conflict"
    __table_args__ = (UniqueConstraint("session_id", "examiner_id", "id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"))
    id_number: Mapped[str] = mapped_column(String(64))


class Exclusion(Base):
    """This examiner must never receive this script (recusal, R10). No reason, no name."""

    __tablename__ = "exclusion"

    script_id: Mapped[int] = mapped_column(ForeignKey("script.id"), primary_key=True)
    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"), primary_key=True)


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


class LedgerEntry(Base):
    """One link of a session's append-only hash chain (DESIGN §7)."""

    __tablename__ = "ledger_entry"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

"""People: accounts, examiners and their certificates' scopes, and the four-eyes requests."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marking.store.db import Base
from marking.store.models.columns import UTCDateTime, stored_enum, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    OFFICE = "office"
    DIRECTOR = "director"
    LEAD = "lead"
    EXAMINER = "examiner"
    # The guidance centre (职业技能鉴定指导中心): approves collective violation decisions (R13).
    CENTRE = "centre"


class Grade(enum.StrEnum):
    EXAMINER = "examiner"
    SENIOR = "senior"


class CardStatus(enum.StrEnum):
    """The examiner's card (证卡): lost or being renewed, it may not examine (第六条(三))."""

    VALID = "valid"
    LOST = "lost"
    RENEWING = "renewing"


class ExaminerStatus(enum.StrEnum):
    """Suspended may be reinstated; revoked is final (第八条)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class MisconductKind(enum.StrEnum):
    """An entry of an examiner's record (第八条)."""

    ABSENCE = "absence"  # from a session the examiner was assigned to; excused or not
    WARNING = "warning"
    SUSPENSION = "suspension"
    REVOCATION = "revocation"
    REINSTATEMENT = "reinstatement"
    NOTE = "note"


class Relation(enum.StrEnum):
    RELATIVE = "relative"
    TEACHER_STUDENT = "teacher_student"
    MASTER_APPRENTICE = "master_apprentice"
    OTHER = "other"


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[Role] = mapped_column(stored_enum(Role, 16))
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
    # NULL when the file that brought the certificate did not say (examiners.csv of 7 columns).
    certificate_issued: Mapped[dt.date | None] = mapped_column(Date)
    grade: Mapped[Grade] = mapped_column(stored_enum(Grade, 16))
    institution: Mapped[str] = mapped_column(String(255), default="")
    card_status: Mapped[CardStatus] = mapped_column(
        stored_enum(CardStatus, 16), default=CardStatus.VALID, server_default="valid"
    )
    status: Mapped[ExaminerStatus] = mapped_column(
        stored_enum(ExaminerStatus, 16), default=ExaminerStatus.ACTIVE, server_default="active"
    )

    account: Mapped[Account] = relationship(back_populates="examiner")
    scopes: Mapped[list[ExaminerScope]] = relationship(
        back_populates="examiner",
        cascade="all, delete-orphan",
        order_by=lambda: [
            ExaminerScope.occupation_code,
            ExaminerScope.level,
            ExaminerScope.category,
        ],
    )


class Misconduct(Base):
    """One entry of an examiner's record (第八条): an absence from an assigned session
    (excused or not), a warning, a suspension, a revocation, a reinstatement or a note;
    who recorded it and when. Entries are only ever added."""

    __tablename__ = "examiner_misconduct"

    id: Mapped[int] = mapped_column(primary_key=True)
    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"), index=True)
    kind: Mapped[MisconductKind] = mapped_column(stored_enum(MisconductKind, 16))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("exam_session.id"))
    excused: Mapped[bool | None] = mapped_column(Boolean)  # absences only
    automatic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ExaminerScope(Base):
    """An occupation and level the certificate covers (第七条(一)); ``category`` is the one
    component key the examiner may mark there, "" for every component."""

    __tablename__ = "examiner_scope"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),)

    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"), primary_key=True)
    occupation_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True, default="")

    examiner: Mapped[Examiner] = relationship(back_populates="scopes")


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
    change: Mapped[AccountChange] = mapped_column(stored_enum(AccountChange, 16))
    role: Mapped[Role | None] = mapped_column(stored_enum(Role, 16))
    name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    requested_by: Mapped[int] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decision: Mapped[AccountDecision | None] = mapped_column(stored_enum(AccountDecision, 16))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

"""People: accounts, examiners and their certificates' scopes, and the four-eyes requests."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String
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
    grade: Mapped[Grade] = mapped_column(stored_enum(Grade, 16))
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

"""An exam session and its setup: groups, components, questions, examiners on groups, custody."""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marking.domain.definition import DEFAULT_MAX_HELD, QuestionType, session_time_zone
from marking.queue.handles import new_key
from marking.store.db import Base, Marks
from marking.store.models.columns import UTCDateTime, stored_enum, utcnow

if TYPE_CHECKING:
    from marking.store.models.accounts import Account


class SessionState(enum.StrEnum):
    DRAFT = "draft"
    INTAKE = "intake"
    MARKING = "marking"
    RECONCILED = "reconciled"
    PUBLISHED = "published"


class Custody(enum.StrEnum):
    KEY_FILE = "key_file"
    SHARES = "shares"


def new_sheet_key() -> bytes:
    """A fresh key for the check values of a session's answer-sheet page codes."""
    return secrets.token_bytes(32)


def new_recusal_key() -> bytes:
    """A fresh key for the digests of a session's recusal declarations (``PendingConflict``)."""
    return secrets.token_bytes(32)


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
    state: Mapped[SessionState] = mapped_column(
        stored_enum(SessionState, 16), default=SessionState.DRAFT
    )
    definition: Mapped[str] = mapped_column(Text)  # the session.toml as given, for the record
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    custody: Mapped[Custody | None] = mapped_column(stored_enum(Custody, 16))
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
    # Keys the check value of every page code printed on its answer sheets (HMAC-SHA-256,
    # marking/paper/codes.py): a code made up without it fails at the scan.
    sheet_key: Mapped[bytes] = mapped_column(LargeBinary(32), default=new_sheet_key)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # An appeal revision being marked (its number), NULL when none: the session stays
    # published, and only that revision's responses are open in the queue.
    open_revision: Mapped[int | None] = mapped_column(Integer)

    groups: Mapped[list[MarkingGroup]] = relationship(
        back_populates="session", order_by="MarkingGroup.id"
    )
    components: Mapped[list[Component]] = relationship(
        back_populates="session", order_by="Component.position"
    )

    @property
    def zone(self) -> ZoneInfo:
        """The session's time zone ([session] time_zone, default Asia/Shanghai): what every
        date and time shown to a person is converted to."""
        return session_time_zone(self.definition)

    def component_name(self, key: str) -> str:
        """A component's name as the office gave it (理论知识), for messages; else the key."""
        return next((c.name for c in self.components if c.key == key), key)

    @property
    def marking_open(self) -> bool:
        """Whether examiners mark and the lead rules now: in marking, or while an appeal
        revision of the published session is open."""
        return self.state is SessionState.MARKING or (
            self.state is SessionState.PUBLISHED and self.open_revision is not None
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
    # Quality control (DESIGN §13). A qualification set of ``qualification_size`` items,
    # passed at ``qualification_within`` (a share, exact to 0.001), or None: no set.
    qualification_size: Mapped[int | None] = mapped_column(Integer)
    qualification_within: Mapped[Decimal | None] = mapped_column(Marks())
    # Shares of the responses handed to an examiner: seeds and 回评 (0: off).
    seed_rate: Mapped[Decimal] = mapped_column(
        Marks(), default=Decimal("0.05"), server_default="50"
    )
    remark_rate: Mapped[Decimal] = mapped_column(
        Marks(), default=Decimal("0.01"), server_default="10"
    )

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
    type: Mapped[QuestionType] = mapped_column(stored_enum(QuestionType, 24))
    max: Mapped[Decimal] = mapped_column(Marks())
    step: Mapped[Decimal] = mapped_column(Marks())
    tolerance: Mapped[Decimal] = mapped_column(Marks())
    group_id: Mapped[int | None] = mapped_column(ForeignKey("marking_group.id"), index=True)
    reference: Mapped[str] = mapped_column(Text, default="")
    scheme: Mapped[str] = mapped_column(Text, default="")
    # The question as printed (题干), shown to examiners and the lead; empty when not given.
    text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Accepted answers of an objective question (normalised); NULL for examiner-marked ones.
    answer: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))

    component: Mapped[Component] = relationship(back_populates="questions")
    group: Mapped[MarkingGroup | None] = relationship()


class Assignment(Base):
    """An examiner on a marking group of a session (R2, R9, R10, R11 checked on creation)."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("group_id", "examiner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("marking_group.id"))
    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"), index=True)
    suspended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # R5: when the group has a qualification set, nothing live before this is set (passed
    # the set, or the lead's recorded override).
    qualified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The check schedule (DESIGN §13): live responses handed out so far in this group, and
    # the count at which the next seed and the next 回评 are due (None: not scheduled yet).
    handed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    seed_due: Mapped[int | None] = mapped_column(Integer)
    remark_due: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


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


class TeamRule(enum.StrEnum):
    """R10's team rules a director may override for a session (第七条(四))."""

    ROTATION = "rotation"  # at least a third of the team new against the previous session
    CONSECUTIVE = "consecutive"  # no more than three consecutive sessions at one station


class TeamOverride(Base):
    """A director's recorded decision to let a session's team break an R10 rule, with the
    reason: for one examiner (``examiner_id``) or the whole team (NULL)."""

    __tablename__ = "team_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    rule: Mapped[TeamRule] = mapped_column(stored_enum(TeamRule, 16))
    examiner_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    reason: Mapped[str] = mapped_column(Text)
    director: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

"""Quality control while marking (DESIGN §13): qualification sets and seeds with the lead's
definitive marks, the checks handed to examiners (qualification, seed, 回评), drift alarms
and the lead's suspensions and qualification overrides.

Nothing here counts toward a final: a check's mark lives in ``check_mark``, never in
``mark``, so reconciliation, the ``marks`` export and publication cannot see it by
construction. A check names its source response (for its text and question), never a
candidate.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from marking.store.db import Base, Marks
from marking.store.models.columns import UTCDateTime, stored_enum, utcnow
from marking.store.models.marks import AnomalyKind


class CheckPurpose(enum.StrEnum):
    QUALIFICATION = "qualification"  # standardisation before live work (R5), announced
    SEED = "seed"  # mixed into live claims unannounced
    REMARK = "remark"  # 回评: the examiner's own earlier response again, blind to the first mark


class CheckState(enum.StrEnum):
    HELD = "held"
    SUBMITTED = "submitted"
    EXPIRED = "expired"
    RELEASED = "released"


class AlarmKind(enum.StrEnum):
    SEEDS_OFF = "seeds_off"  # too many recent seeds beyond tolerance (3 of the last 10)
    SEED_BIAS = "seed_bias"  # mean signed deviation on recent seeds beyond half the tolerance


class CheckItem(Base):
    """A response the lead gave a definitive mark, as a qualification item or a seed.

    ``retired_at``: taken out of use (no longer handed out); its marks stay."""

    __tablename__ = "check_item"
    __table_args__ = (
        UniqueConstraint("response_id", "purpose"),
        CheckConstraint("value >= 0", name="value_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("marking_group.id"), index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"))
    purpose: Mapped[CheckPurpose] = mapped_column(stored_enum(CheckPurpose, 16))
    value: Mapped[Decimal] = mapped_column(Marks())
    # The lead's reasons for the mark, shown to an examiner reviewing a failed qualification.
    note: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)  # order within a qualification set
    created_by: Mapped[int] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    retired_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))


class CheckMark(Base):
    """One check handed to one examiner and, once submitted, their mark on it.

    Held under a lease like a live response (``state``, ``expires_at``) and addressed by
    its own handle kind, so the marking screen treats both alike. ``expected`` is what the
    mark is compared with: the definitive mark (qualification, seed) or, for 回评, the
    examiner's own first mark in force when the check was handed out. ``attempt`` numbers
    qualification attempts (1 otherwise)."""

    __tablename__ = "check_mark"
    __table_args__ = (
        UniqueConstraint("examiner_id", "response_id", "purpose", "attempt"),
        # The queue's anti-join: a response shown as a check is never handed out live to
        # the same examiner (they would see its text twice).
        Index("ix_check_mark_response_examiner", "response_id", "examiner_id"),
        Index("ix_check_mark_examiner_group", "examiner_id", "group_id", "purpose"),
        # A check handed back comes back with the live response it displaced
        # (``marking.quality.handout.come_back``): a claim finds it by that response.
        Index("ix_check_mark_displaced", "displaced_id", "examiner_id"),
        Index(
            "ix_check_mark_held",
            "state",
            "expires_at",
            sqlite_where=text("state = 'held'"),
            postgresql_where=text("state = 'held'"),
        ),
        CheckConstraint("value IS NULL OR value >= 0", name="value_non_negative"),
        CheckConstraint("attempt >= 1", name="attempt_positive"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("marking_group.id"))
    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"))
    purpose: Mapped[CheckPurpose] = mapped_column(stored_enum(CheckPurpose, 16))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("check_item.id"))
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"))
    # 回评: the examiner's own mark being checked against.
    mark_id: Mapped[int | None] = mapped_column(ForeignKey("mark.id"))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    expected: Mapped[Decimal] = mapped_column(Marks())
    state: Mapped[CheckState] = mapped_column(stored_enum(CheckState, 16), default=CheckState.HELD)
    value: Mapped[Decimal | None] = mapped_column(Marks())
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The examiner was shown ``expected`` (a failed qualification attempt's review): the
    # response is never handed to them live (``marking.queue.statements.takeable_by``).
    # A server default only: the hand-out's driver statements insert without naming it.
    revealed: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # A seed or 回评 the examiner reported as an anomaly: handed back (``RELEASED``), it still
    # stands in for the live response it displaced (``marking.read.views``) until the lead
    # deals with the report, as a reported live response stays on hold until resolved. The
    # report goes to the lead (R4) as a live one does: its kind and note, and when
    # (``marking.quality.reports``).
    reported: Mapped[bool] = mapped_column(Boolean, server_default=false())
    report_kind: Mapped[AnomalyKind | None] = mapped_column(stored_enum(AnomalyKind, 24))
    report_note: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The lead dealt with the report (retired the seed, or closed the report): the check no
    # longer stands in for the live response it displaced, as a reported live response comes
    # back once the lead resolves it.
    report_closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    report_closed_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    # A seed or 回评 takes a live response's place in its batch (``marking.quality.handout``):
    # that response, and whether the examiner's mark on it would have been the last it
    # needed then. "Correct my last mark" answers for the check as it would have for that
    # response (``marking.quality.corrections``). Written by the hand-out's statements.
    displaced_id: Mapped[int | None] = mapped_column(ForeignKey("response.id"))
    last_needed: Mapped[bool] = mapped_column(Boolean, server_default=false())


class CheckCorrection(Base):
    """An examiner's correction of their mark on a seed or 回评 (R6): "correct my last
    mark" works on a check as on live work, so the marking screen cannot tell them apart.
    A new record naming the check mark, never an update; ``seq`` numbers them from 1.

    The quality figures keep the mark as first given (``CheckMark.value``): a seed measures
    the examiner's judgment when they marked, and a drift alarm is not undone afterwards."""

    __tablename__ = "check_correction"
    __table_args__ = (
        UniqueConstraint("check_mark_id", "seq"),
        CheckConstraint("value >= 0", name="value_non_negative"),
        CheckConstraint("seq >= 1", name="seq_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    check_mark_id: Mapped[int] = mapped_column(ForeignKey("check_mark.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    old_value: Mapped[Decimal] = mapped_column(Marks())
    value: Mapped[Decimal] = mapped_column(Marks())
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CheckAlarm(Base):
    """A drift alarm in the lead's inbox, with the evidence that raised it; open until the
    lead closes it (by suspending the examiner, or with a note)."""

    __tablename__ = "check_alarm"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("marking_group.id"))
    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"))
    kind: Mapped[AlarmKind] = mapped_column(stored_enum(AlarmKind, 16))
    # The seeds it rests on: check ids, expected and given marks, deviations, the rule.
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    close_note: Mapped[str] = mapped_column(Text, default="")


class GroupSuspension(Base):
    """The lead suspended an examiner on a group (DESIGN §13), with a reason.

    ``keep_marks``: their marks on responses not yet final were kept by this recorded
    decision; otherwise ``withdrawn`` of them were withdrawn and the responses re-marked by
    others. Reinstatement is recorded on the same row; a later suspension is a new row."""

    __tablename__ = "group_suspension"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("marking_group.id"))
    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"))
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    keep_marks: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    reinstated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reinstated_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    reinstate_reason: Mapped[str] = mapped_column(Text, default="")


class QualificationOverride(Base):
    """The lead qualified an examiner on a group without (or despite) the set: recorded."""

    __tablename__ = "qualification_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("marking_group.id"))
    examiner_id: Mapped[int] = mapped_column(ForeignKey("examiner.account_id"))
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MonitoringSnapshot(Base):
    """The monitoring figures of a session as last computed (the lead's live page reads
    this; a job refreshes it while marking goes on): ``data`` as the read model gives it,
    ``took_ms`` how long the computation took, ``last_mark_id`` the newest mark it saw."""

    __tablename__ = "monitoring_snapshot"

    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), primary_key=True)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    took_ms: Mapped[int] = mapped_column(Integer, default=0)
    last_mark_id: Mapped[int] = mapped_column(BigInteger, default=0)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

"""Background jobs' own records: a report rendered by a worker, its progress and its bytes.

The job library (``marking.jobs``) only carries "run this task with these arguments"; what
the office sees (queued, how far, done with a download, failed with the reason) and the
lease that lets another worker resume a run whose worker died live here, in the schema.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from marking.store.db import Base
from marking.store.models.columns import UTCDateTime, stored_enum, utcnow


class RunState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ReportRun(Base):
    """One long report (the notices of a whole session) rendered in the background.

    ``lease_owner``/``lease_until``: the worker rendering it, and until when it is taken to
    be alive (renewed at every progress step). A queued or running run whose lease has
    lapsed was lost with its worker and is queued again (``marking.jobs``). The content is
    written once, with the state ``done``, so nobody ever downloads half a report; it names
    candidates, exists only after publication (the engine refuses notices before) and is
    shown to the office only.
    """

    __tablename__ = "report_run"
    __table_args__ = (Index("ix_report_run_state_lease_until", "state", "lease_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # The exam numbers asked for (the office's choice after publication); None: everyone.
    exam_nos: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    lang: Mapped[str] = mapped_column(String(8))
    state: Mapped[RunState] = mapped_column(stored_enum(RunState, 16), default=RunState.QUEUED)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

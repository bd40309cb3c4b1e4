"""The paper path's records: the answer-sheet serials issued, so that a scan can refuse a
sheet nobody printed and a photocopy (its serial is already taken by the original)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marking.store.db import Base
from marking.store.models.columns import UTCDateTime, utcnow


class IssuedSheet(Base):
    """One printed answer-sheet set: its random serial, unique in the session (the unique
    constraint holds even against a bug elsewhere), the component it is for and the digest
    of the layout it was printed with (``marking.paper.layout.layout_digest``).

    A serial is not identity: it is random, unrelated to any candidate or to the order of
    printing, and which candidate writes on which sheet is known only from the sealed header.
    """

    __tablename__ = "issued_sheet"
    __table_args__ = (UniqueConstraint("session_id", "serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_session.id"))
    component_id: Mapped[int] = mapped_column(ForeignKey("component.id"), index=True)
    serial: Mapped[str] = mapped_column(String(16))
    layout: Mapped[str] = mapped_column(String(64))
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

"""The hash-chained ledgers: a session's lanes and the account ledger, with their tips."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marking.store.db import Base
from marking.store.models.columns import UTCDateTime, utcnow


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

"""The append-only, hash-chained record of everything done to a session (DESIGN §7).

One chain per actor (lane) within a session: an examiner's marks chain to each other,
the lead's rulings to each other, the office's steps to each other. Examiners marking in
parallel therefore never contend for one chain tip, yet deleting, inserting, changing or
reordering any entry breaks its chain. The session's head digests every lane's tip.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.orm import Session

from marking.models import ExamSession, LedgerEntry, utcnow

GENESIS = "0" * 64


def entry_hash(
    *,
    session_id: int,
    lane: str,
    seq: int,
    kind: str,
    actor: str,
    payload: dict[str, Any],
    created_at: dt.datetime,
    prev_hash: str,
) -> str:
    """SHA-256 over a canonical JSON form, so any change to any field shows."""
    body = json.dumps(
        {
            "session": session_id,
            "lane": lane,
            "seq": seq,
            "kind": kind,
            "actor": actor,
            "payload": payload,
            "at": created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "prev": prev_hash,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


_LOCK_LANE = text("SELECT pg_advisory_xact_lock(:s, hashtext(:lane))")
_LANE_TIP = (
    select(LedgerEntry.seq, LedgerEntry.hash)
    .where(LedgerEntry.session_id == bindparam("s"), LedgerEntry.lane == bindparam("lane"))
    .order_by(LedgerEntry.seq.desc())
    .limit(1)
)
_INSERT = insert(LedgerEntry)


def append(
    db: Session,
    exam_session: ExamSession,
    *,
    kind: str,
    actor: str,
    payload: dict[str, Any],
    now: dt.datetime | None = None,
) -> str:
    """Append one entry to the actor's chain in this session. Payloads never name a candidate.

    Returns the entry's hash. Two transactions of one actor (two browser tabs) must not
    both take seq n+1: on PostgreSQL an advisory lock orders them, SQLite already has a
    single writer; and the (session, lane, seq) unique constraint makes a fork impossible
    even if the lock were bypassed. Statements are prepared once: marks append an entry
    each, so this is on the hot path.
    """
    lane = actor
    conn = db.connection()
    params = {"s": exam_session.id, "lane": lane}
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_LANE, params)
    last = conn.execute(_LANE_TIP, params).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    created_at = now or utcnow()
    digest = entry_hash(
        session_id=exam_session.id,
        lane=lane,
        seq=seq,
        kind=kind,
        actor=actor,
        payload=payload,
        created_at=created_at,
        prev_hash=prev,
    )
    conn.execute(
        _INSERT,
        {
            "session_id": exam_session.id,
            "lane": lane,
            "seq": seq,
            "kind": kind,
            "actor": actor,
            "payload": payload,
            "created_at": created_at,
            "prev_hash": prev,
            "hash": digest,
        },
    )
    return digest


def head(db: Session, exam_session: ExamSession) -> str:
    """The session's ledger head: SHA-256 over every lane's last hash, lanes sorted."""
    tips = db.execute(
        text(
            "SELECT e.lane, e.hash FROM ledger_entry e JOIN ("
            " SELECT lane, max(seq) AS seq FROM ledger_entry WHERE session_id = :s GROUP BY lane"
            ") t ON t.lane = e.lane AND t.seq = e.seq WHERE e.session_id = :s ORDER BY e.lane"
        ),
        {"s": exam_session.id},
    ).all()
    h = hashlib.sha256()
    for lane, digest in tips:
        h.update(f"{lane}\0{digest}\n".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Break:
    """The first place a chain does not hold."""

    lane: str
    seq: int
    entry_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"entry {self.entry_id}" if self.entry_id is not None else "entry"
        return f"lane {self.lane!r}, seq {self.seq} ({where}): {self.reason}"


def entries(db: Session, exam_session: ExamSession) -> Iterator[LedgerEntry]:
    """Every entry, lane by lane in chain order, streamed."""
    result = db.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.session_id == exam_session.id)
        .order_by(LedgerEntry.lane, LedgerEntry.seq, LedgerEntry.id)
        .execution_options(yield_per=5000)
    )
    # A server-side cursor on PostgreSQL: closed even when the reader stops early
    # (verify_chains at the first break), not left open for the garbage collector.
    with result:
        yield from result


def verify_chains(db: Session, exam_session: ExamSession) -> tuple[int, Break | None]:
    """Recompute every chain; return (entries checked, first break or None)."""
    lane: str | None = None
    expected_seq, prev = 1, GENESIS
    count = 0
    for e in entries(db, exam_session):
        count += 1
        if e.lane != lane:
            lane, expected_seq, prev = e.lane, 1, GENESIS
        if e.seq != expected_seq:
            reason = (
                f"sequence jumps from {expected_seq - 1} to {e.seq}: an entry is missing"
                if e.seq > expected_seq
                else f"sequence number {e.seq} repeats or goes back: entries were inserted"
            )
            return count, Break(e.lane, e.seq, e.id, reason)
        if e.prev_hash != prev:
            return count, Break(e.lane, e.seq, e.id, "does not chain to the entry before it")
        recomputed = entry_hash(
            session_id=e.session_id,
            lane=e.lane,
            seq=e.seq,
            kind=e.kind,
            actor=e.actor,
            payload=e.payload,
            created_at=e.created_at,
            prev_hash=e.prev_hash,
        )
        if recomputed != e.hash:
            return count, Break(e.lane, e.seq, e.id, "its content was changed after it was written")
        prev = e.hash
        expected_seq += 1
    return count, None

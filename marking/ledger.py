"""The append-only, hash-chained record of everything done to a session (DESIGN §7)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.models import ExamSession, LedgerEntry, utcnow

GENESIS = "0" * 64


def entry_hash(
    *,
    session_id: int,
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


def append(
    db: Session,
    exam_session: ExamSession,
    *,
    kind: str,
    actor: str,
    payload: dict[str, Any],
    now: dt.datetime | None = None,
) -> LedgerEntry:
    """Append one entry to the session's chain. Payloads must never name a candidate.

    The (session, seq) unique constraint makes a fork impossible: two writers racing
    for the same seq cannot both commit.
    """
    last = db.execute(
        select(LedgerEntry.seq, LedgerEntry.hash)
        .where(LedgerEntry.session_id == exam_session.id)
        .order_by(LedgerEntry.seq.desc())
        .limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    created_at = now or utcnow()
    digest = entry_hash(
        session_id=exam_session.id,
        seq=seq,
        kind=kind,
        actor=actor,
        payload=payload,
        created_at=created_at,
        prev_hash=prev,
    )
    entry = LedgerEntry(
        session_id=exam_session.id,
        seq=seq,
        kind=kind,
        actor=actor,
        payload=payload,
        created_at=created_at,
        prev_hash=prev,
        hash=digest,
    )
    db.add(entry)
    db.flush()
    return entry

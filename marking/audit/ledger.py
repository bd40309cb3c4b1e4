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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from marking.store.models import (
    AccountLedgerEntry,
    AccountLedgerTip,
    ChainLink,
    ExamSession,
    LedgerEntry,
    LedgerLane,
    utcnow,
)

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


def lane_lock(dialect: str) -> Any:
    """The statement that locks a lane's tip row (creating it at seq 0) and returns it.

    An upsert whose conflict branch changes nothing: on PostgreSQL it waits for another
    transaction appending to the lane and then returns the tip that one left, the latest
    committed version, not the statement's snapshot; SQLite has one writer anyway.
    """
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = upsert(LedgerLane).values(
        session_id=bindparam("l_session"), lane=bindparam("l_lane"), seq=0, hash=GENESIS
    )
    return statement.on_conflict_do_update(
        index_elements=[LedgerLane.session_id, LedgerLane.lane],
        set_={"seq": LedgerLane.seq},
    ).returning(LedgerLane.seq, LedgerLane.hash)


_LANE_LOCK = {name: lane_lock(name) for name in ("postgresql", "sqlite")}
INSERT_ENTRY = insert(LedgerEntry)
# An entry's columns, in the order bulk loaders write them.
ENTRY_COLUMNS = (
    "session_id",
    "lane",
    "seq",
    "kind",
    "actor",
    "payload",
    "created_at",
    "prev_hash",
    "hash",
)
ADVANCE_LANE = (
    update(LedgerLane)
    .where(LedgerLane.session_id == bindparam("l_session"), LedgerLane.lane == bindparam("l_lane"))
    .values(seq=bindparam("tip_seq"), hash=bindparam("tip_hash"))
)


def entry_row(
    *,
    session_id: int,
    lane: str,
    tip: tuple[int, str],
    kind: str,
    actor: str,
    payload: dict[str, Any],
    created_at: dt.datetime,
) -> dict[str, Any]:
    """The ledger_entry row that follows a lane's tip (seq, hash), its hash computed."""
    seq, prev = tip[0] + 1, tip[1]
    return {
        "session_id": session_id,
        "lane": lane,
        "seq": seq,
        "kind": kind,
        "actor": actor,
        "payload": payload,
        "created_at": created_at,
        "prev_hash": prev,
        "hash": entry_hash(
            session_id=session_id,
            lane=lane,
            seq=seq,
            kind=kind,
            actor=actor,
            payload=payload,
            created_at=created_at,
            prev_hash=prev,
        ),
    }


def hold_lane(db: Session, exam_session: ExamSession, actor: str) -> None:
    """Lock the actor's lane now, before the rows a step goes on to lock. A mark takes the
    lane first (its fused statement locks the lane's tip, then the lease or the check): a
    report that locked the lease or check first and the lane at its ledger entry could
    deadlock with a mark sent at once by the same examiner's other login. Appending later in
    the transaction takes the lane again, already its own."""
    conn = db.connection()
    conn.execute(_LANE_LOCK[conn.dialect.name], {"l_session": exam_session.id, "l_lane": actor})


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
    both take seq n+1: the lane's tip row is locked first, so they take turns; and the
    (session, lane, seq) unique constraint makes a fork impossible even if the lock were
    bypassed. Statements are prepared once: marks append an entry each (the queue has its
    own fused version of this, see queue.submit_mark).
    """
    lane = actor
    conn = db.connection()
    params = {"l_session": exam_session.id, "l_lane": lane}
    seq, prev = conn.execute(_LANE_LOCK[conn.dialect.name], params).one()
    row = entry_row(
        session_id=exam_session.id,
        lane=lane,
        tip=(seq, prev),
        kind=kind,
        actor=actor,
        payload=payload,
        created_at=now or utcnow(),
    )
    conn.execute(INSERT_ENTRY, row)
    conn.execute(ADVANCE_LANE, {**params, "tip_seq": row["seq"], "tip_hash": row["hash"]})
    return str(row["hash"])


def lane_tips(db: Session, exam_session: ExamSession) -> dict[str, tuple[int, str]]:
    """Every lane's recorded tip (seq, hash), lanes that have entries only."""
    return {
        lane: (seq, digest)
        for lane, seq, digest in db.execute(
            select(LedgerLane.lane, LedgerLane.seq, LedgerLane.hash).where(
                LedgerLane.session_id == exam_session.id, LedgerLane.seq > 0
            )
        )
    }


def head_of(tips: dict[str, tuple[int, str]]) -> str:
    h = hashlib.sha256()
    for lane in sorted(tips):
        h.update(f"{lane}\0{tips[lane][1]}\n".encode())
    return h.hexdigest()


def head(db: Session, exam_session: ExamSession) -> str:
    """The session's ledger head: SHA-256 over every lane's last hash, lanes sorted.

    Read from the lanes' tip rows (one row per actor, not millions of entries); verify
    checks those rows against the chains themselves."""
    return head_of(lane_tips(db, exam_session))


@dataclass(frozen=True)
class Break:
    """The first place a chain does not hold."""

    lane: str
    seq: int
    entry_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f" (entry {self.entry_id})" if self.entry_id is not None else ""
        return f"lane {self.lane!r}, seq {self.seq}{where}: {self.reason}"


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


class Link(Protocol):
    """An entry as the chain check reads it: a ledger row, or one read back from an archive."""

    @property
    def id(self) -> int | None: ...
    @property
    def session_id(self) -> int: ...
    @property
    def lane(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> dt.datetime: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


def walk_chains(links: Iterable[Link]) -> tuple[int, dict[str, tuple[int, str]], Break | None]:
    """Recompute chains from their entries, given lane by lane in chain order; return
    (entries checked, each lane's last (seq, hash), the first break or None). Shared by
    ``verify`` on the database and the archive check (marking/audit/bundle.py)."""
    lane: str | None = None
    expected_seq, prev = 1, GENESIS
    count = 0
    tips: dict[str, tuple[int, str]] = {}
    for e in links:
        count += 1
        if e.lane != lane:
            lane, expected_seq, prev = e.lane, 1, GENESIS
        reason = _link_break(e, session_id=e.session_id, lane=e.lane, seq=expected_seq, prev=prev)
        if reason is not None:
            return count, tips, Break(e.lane, e.seq, e.id, reason)
        prev = e.hash
        tips[e.lane] = (e.seq, e.hash)
        expected_seq += 1
    return count, tips, None


def tips_break(
    tips: dict[str, tuple[int, str]], recorded: dict[str, tuple[int, str]]
) -> Break | None:
    """The first lane whose recorded tip is not the end of its chain; None when all are."""
    for name in sorted(set(tips) | set(recorded)):
        reason = _tip_break(tips.get(name), recorded.get(name))
        if reason is not None:
            chain_end, tip = tips.get(name), recorded.get(name)
            seq = chain_end[0] if chain_end else (tip[0] if tip else 0)
            return Break(name, seq, None, reason)
    return None


def verify_chains(db: Session, exam_session: ExamSession) -> tuple[int, Break | None]:
    """Recompute every chain; return (entries checked, first break or None)."""
    count, tips, broken = walk_chains(entries(db, exam_session))
    if broken is not None:
        return count, broken
    return count, tips_break(tips, lane_tips(db, exam_session))


def _link_break(
    e: Link | ChainLink, *, session_id: int, lane: str, seq: int, prev: str
) -> str | None:
    """Why entry ``e`` does not follow (seq - 1, prev) of its chain; None when it does."""
    if e.seq != seq:
        return (
            f"sequence jumps from {seq - 1} to {e.seq}: an entry is missing"
            if e.seq > seq
            else f"sequence number {e.seq} repeats or goes back: entries were inserted"
        )
    if e.prev_hash != prev:
        return "does not chain to the entry before it"
    recomputed = entry_hash(
        session_id=session_id,
        lane=lane,
        seq=e.seq,
        kind=e.kind,
        actor=e.actor,
        payload=e.payload,
        created_at=e.created_at,
        prev_hash=e.prev_hash,
    )
    if recomputed != e.hash:
        return "its content was changed after it was written"
    return None


def _tip_break(chain_end: tuple[int, str] | None, tip: tuple[int, str] | None) -> str | None:
    """Why a chain's recorded tip (seq, hash) is not its last entry; None when it is."""
    if chain_end == tip:
        return None
    if tip is None or chain_end is None:
        return (
            "the lane has entries but no recorded tip"
            if tip is None
            else "the lane's recorded tip has no entries behind it: entries were deleted"
        )
    if tip[0] > chain_end[0]:
        return f"the lane's tip is seq {tip[0]}: entries after this one were deleted"
    return "the lane's recorded tip does not match its last entry"


# --- the account ledger: changes to accounts, which belong to no exam session -----------------

ACCOUNTS_LANE = "accounts"
ACCOUNTS_SESSION = 0  # no exam session has id 0: an account entry's hash cannot pass for one


def _account_tip_lock(dialect: str) -> Any:
    """Lock the account ledger's one tip row (created at seq 0) and return it; as lane_lock."""
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = upsert(AccountLedgerTip).values(id=1, seq=0, hash=GENESIS)
    return statement.on_conflict_do_update(
        index_elements=[AccountLedgerTip.id], set_={"seq": AccountLedgerTip.seq}
    ).returning(AccountLedgerTip.seq, AccountLedgerTip.hash)


_ACCOUNT_TIP_LOCK = {name: _account_tip_lock(name) for name in ("postgresql", "sqlite")}


def append_account(
    db: Session,
    *,
    kind: str,
    actor: str,
    payload: dict[str, Any],
    now: dt.datetime | None = None,
) -> str:
    """Append an account change to the account ledger; returns the entry's hash.

    Payloads name accounts and roles, never a password or its hash. Two admins at once
    take turns on the tip row, as two tabs of one examiner do on a lane."""
    conn = db.connection()
    tip = conn.execute(_ACCOUNT_TIP_LOCK[conn.dialect.name]).one()
    row = entry_row(
        session_id=ACCOUNTS_SESSION,
        lane=ACCOUNTS_LANE,
        tip=(tip[0], tip[1]),
        kind=kind,
        actor=actor,
        payload=payload,
        created_at=now or utcnow(),
    )
    del row["session_id"], row["lane"]
    conn.execute(insert(AccountLedgerEntry), row)
    conn.execute(
        update(AccountLedgerTip)
        .where(AccountLedgerTip.id == 1)
        .values(seq=row["seq"], hash=row["hash"])
    )
    return str(row["hash"])


def account_entries(db: Session) -> Iterator[AccountLedgerEntry]:
    """The account ledger in chain order."""
    yield from db.scalars(select(AccountLedgerEntry).order_by(AccountLedgerEntry.seq))


def account_head(db: Session) -> str:
    """The account ledger's last hash (the genesis value while it is empty)."""
    return db.scalar(select(AccountLedgerTip.hash).where(AccountLedgerTip.id == 1)) or GENESIS


def verify_account_chain(db: Session) -> tuple[int, Break | None]:
    """Recompute the account ledger's chain; return (entries checked, first break or None)."""
    count, prev = 0, GENESIS
    for e in account_entries(db):
        count += 1
        reason = _link_break(
            e, session_id=ACCOUNTS_SESSION, lane=ACCOUNTS_LANE, seq=count, prev=prev
        )
        if reason is not None:
            return count, Break(ACCOUNTS_LANE, e.seq, e.id, reason)
        prev = e.hash
    chain_end = (count, prev) if count else None
    recorded = db.execute(
        select(AccountLedgerTip.seq, AccountLedgerTip.hash).where(
            AccountLedgerTip.id == 1, AccountLedgerTip.seq > 0
        )
    ).first()
    reason = _tip_break(chain_end, None if recorded is None else (recorded[0], recorded[1]))
    if reason is not None:
        return count, Break(ACCOUNTS_LANE, count, None, reason)
    return count, None

"""Claiming a batch of responses under leases, fairly (DESIGN §4).

Fairness: responses are handed out in a random order fixed at intake (``queue_key``), each
claim starting at a random point of it, and no examiner holds more than a group's
``max_held`` at once; so no one takes a whole session, and no two examiners can arrange to
mark the same responses. Every operation on a response checks that it belongs to the
session it is addressed through. How a claim stays correct under concurrency:
``marking.queue.statements``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from marking.errors import MarkingError, NotFound, StateError, not_marking
from marking.queue.leases import DEFAULT_LEASE, expire_leases, lead_suspensions
from marking.queue.statements import (
    CANDIDATES,
    CLAIM_DRIVER,
    CLAIM_LOCK_DRIVER,
    DESCRIBE,
    HOLD,
    ROOMS,
    decimals,
)
from marking.store.models import (
    Account,
    Assignment,
    ExamSession,
    Lease,
    LeaseState,
    MarkingGroup,
    Response,
    Script,
    utcnow,
)

MAX_BATCH = 100
QUEUE_KEYS = 2**31  # queue keys (Response.queue_key) lie in [0, QUEUE_KEYS)
_SYSTEM_RANDOM = random.SystemRandom()


class Counters(NamedTuple):
    """The examiner's check schedule in a group, counted with the batch (``Assignment``)."""

    id: int
    handed: int
    seed_due: int | None
    remark_due: int | None


@dataclass(slots=True)
class Checked:
    """A group of a batch with seeds or 回评 on: its id, its rates and how many live
    responses of it the batch holds; on PostgreSQL, the schedule's counters as the claim
    left them (the claim counted the batch in them), and its checks given up that come back.
    Counted in place, row by row."""

    group_id: int
    seed_rate: Decimal
    remark_rate: Decimal
    count: int = 0
    counters: Counters | None = None
    # On PostgreSQL, read with the batch: (check id, response id) of the examiner's seeds and
    # 回评 given up that stand for a response of the batch (``statements.lost_check``);
    # None where the claim did not read them (``marking.quality.handout.come_back`` asks).
    lost: list[tuple[int, int]] | None = None


def _expire(db: Session, exam: ExamSession, now: dt.datetime) -> int:
    """Expired leases and checks back (a claim that came up short); how many of both. A
    check counts under the hold limit as a live response does, so the room its expiry frees
    must be refilled in the same claim as a lease's: else the batch after an expired check
    comes up one short (or is refused with HoldLimit), which tells the examiner it was one."""
    from marking.quality.checks import expire_checks

    return expire_checks(db, exam, now=now) + expire_leases(db, exam, now=now)


def _note_checked(checked: dict[str, Checked], row: Any, *, plain: bool) -> None:
    """Count the row's group in ``checked`` when it has seeds or 回评 on."""
    seed, remark = row[14], row[15]
    if seed or remark:
        key = row[9]
        found = checked.get(key)
        if found is None:
            if plain:
                seed, remark = decimals((seed, remark))
            found = Checked(row[13], seed, remark, lost=[] if plain else None)
        # The PostgreSQL claim counts the examiner's schedule for groups with checks on, the
        # condition above: a row without them would carry no counters, and the group then goes
        # by the schedule's own read.
        found.counters = Counters(*row[16:20]) if plain and row[16] is not None else None
        if plain and row[20] is not None:
            found.lost.append((row[20], row[0]))  # type: ignore[union-attr]
        found.count += 1
        checked[key] = found


class HoldLimit(StateError):
    """The examiner already holds the most responses a group allows one examiner."""


@dataclass(frozen=True)
class Claimed:
    """What an examiner sees of a claimed response: no candidate, no other marks."""

    response_id: int
    script_code: str
    component: str
    question: str
    question_type: str
    text: str
    image_sha256: str | None
    max: Decimal
    step: Decimal
    group: str
    reference: str
    scheme: str
    expires_at: dt.datetime
    blank: bool = False  # a scanned answer box with no ink: shown, and labelled blank
    # A check (seed, 回评, qualification: ``marking.quality.checks``) shows its source
    # response and is marked through ``submit_check``; None for live work.
    check_id: int | None = None


def _rooms(db: Session, exam: ExamSession, examiner: Account, only: int | None = None) -> list[Any]:
    """(group id, room, key, max_held) of the examiner's open groups (or of group ``only``),
    in group order."""
    return list(db.execute(ROOMS, {"session_id": exam.id, "me": examiner.id, "only": only}))


def claim(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    *,
    size: int = 10,
    now: dt.datetime | None = None,
    lease: dt.timedelta = DEFAULT_LEASE,
    rng: random.Random | None = None,
    group: str | None = None,
) -> list[Claimed]:
    """Lease up to ``size`` responses from the examiner's open groups, or from the one
    whose key is ``group`` when they chose one to mark (NotFound if the session has none
    of that key).

    Never one the examiner marked, holds or is excluded from, nor one on anomaly hold or
    awaiting arbitration, and never more than a group's hold limit (``max_held``, default
    20) held at once in one group. Responses come in the random order intake fixed, from
    a random point of it (``rng``: the system's randomness unless given), so no one can
    arrange which responses they get, nor whose second marker they are.

    Raises StateError outside marking, MarkingError if the examiner has no open group,
    HoldLimit when nothing could be given because they already hold the most a group
    allows. Returns [] when nothing is left for them.

    Expired leases are returned to the queue when a claim comes up short: until then the
    rest of the queue keeps everyone busy, and a claim costs no sweep of the session.
    """
    if not exam.marking_open:
        raise not_marking(exam.code, exam.state.value)
    if not 1 <= size <= MAX_BATCH:
        raise MarkingError(f"a batch is 1 to {MAX_BATCH} responses")
    only = None if group is None else _group_id(db, exam, group)
    now = now or utcnow()
    expires = now + lease
    start = (rng or _SYSTEM_RANDOM).randrange(QUEUE_KEYS)
    conn = db.connection()
    fused = conn.dialect.name == "postgresql"
    if fused:
        CLAIM_LOCK_DRIVER.run(conn, {"me": examiner.id})
    take = _take_fused if fused else _take
    # Groups of the batch with seeds or 回评 on (key → id, rates), read with the batch.
    checked: dict[str, Checked] = {}
    batch = _Take(size, now, expires, start, only)
    items = take(db, exam, examiner, batch, checked)
    if len(items) < size and _expire(db, exam, now):
        batch = replace(batch, size=size - len(items))
        items += take(db, exam, examiner, batch, checked)
    if checked:
        from marking.quality.checks import mix_in

        items = mix_in(
            db, exam, examiner, items, checked, now=now, expires=expires, rng=rng or _SYSTEM_RANDOM
        )
    if not items:
        rooms = _rooms(db, exam, examiner, only)
        if not rooms:
            from marking.quality.qualification import require_qualified

            # Raises when a qualification set waits: of the chosen group, when they chose one.
            require_qualified(db, exam, examiner, group_id=only)
            if said := _suspended_in(db, exam, examiner, only):
                raise said
            raise MarkingError(
                f"{examiner.username} has no open marking group in session {exam.code} "
                "(not assigned, suspended, or the scheme is not approved yet)"
            )
        if full := {r.group_id: r.max_held for r in rooms if r.room <= 0}:
            raise _hold_limit(db, full)
    return masked(exam, items)


def _suspended_in(
    db: Session, exam: ExamSession, examiner: Account, only: int | None
) -> MarkingError | None:
    """The refusal of a claim by an examiner the lead suspended on the chosen group (or, when
    none was chosen, on every group they are on), naming the groups and the lead's reasons."""
    rows = db.execute(
        select(MarkingGroup.id, MarkingGroup.name, Assignment.suspended_at)
        .join(Assignment, Assignment.group_id == MarkingGroup.id)
        .where(Assignment.session_id == exam.id, Assignment.examiner_id == examiner.id)
        .order_by(MarkingGroup.id)
    ).all()
    if only is not None:
        rows = [r for r in rows if r.id == only]
    if not rows or any(r.suspended_at is None for r in rows):
        return None
    reasons = lead_suspensions(db, examiner.id, [r.id for r in rows])
    if any(r.id not in reasons for r in rows):
        return None  # suspended otherwise (the office's register, 第八条): said generally
    return MarkingError.coded(
        "claim_suspended",
        "the lead examiner suspended your marking in %(groups)s: you cannot claim there until "
        "they reinstate you; their reason: %(reasons)s; ask the lead examiner",
        groups="、".join(r.name for r in rows),
        # Quoted after the sentence, each with its group when there are several.
        reasons="；".join(
            f"“{reasons[r.id]}”" if len(rows) == 1 else f"{r.name}：“{reasons[r.id]}”" for r in rows
        ),
    )


def _hold_limit(db: Session, full: dict[int, int]) -> HoldLimit:
    """The refusal of a claim that found the examiner at the hold limit in the groups of
    ``full`` (group id → limit): coded, so a screen words it in the reader's language, and
    naming the groups as the examiner knows them (their names, not the keys)."""
    found = db.execute(select(MarkingGroup.id, MarkingGroup.name).where(MarkingGroup.id.in_(full)))
    names = {group_id: name for group_id, name in found}
    return HoldLimit.coded(
        "hold_limit",
        "you already hold as many responses as one examiner may in %(groups)s; mark or hand "
        "back the ones you hold, then claim again",
        groups="、".join(f"{names[g]} ({limit})" for g, limit in sorted(full.items())),
    )


#: What examiners and the lead see instead of a script's code while an appeal revision is
#: open: the code was published beside the candidate's name, so showing it would say whose
#: script is being marked again.
MASKED_CODE = "—"


def shown_code(exam: ExamSession, code: str) -> str:
    """A script's code as examiners and the lead may see it now (masked during a revision)."""
    return MASKED_CODE if exam.open_revision is not None else code


def masked(exam: ExamSession, items: list[Claimed]) -> list[Claimed]:
    """The claimed responses with their script codes as ``shown_code`` allows."""
    if exam.open_revision is None:
        return items
    return [replace(item, script_code=MASKED_CODE) for item in items]


@dataclass(frozen=True)
class _Take:
    """One take of a claim: how many, its time and expiry, the queue's random starting
    point, and the group chosen (None: any of the examiner's)."""

    size: int
    now: dt.datetime
    expires: dt.datetime
    start: int
    only: int | None


def _group_id(db: Session, exam: ExamSession, key: str) -> int:
    found = db.scalar(
        select(MarkingGroup.id).where(MarkingGroup.session_id == exam.id, MarkingGroup.key == key)
    )
    if found is None:
        raise NotFound(f"session {exam.code} has no marking group {key!r}")
    return found


def _take_fused(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    batch: _Take,
    checked: dict[str, Checked],
) -> list[Claimed]:
    expires = batch.expires
    rows = CLAIM_DRIVER.run(
        db.connection(),
        {
            "session_id": exam.id,
            "me": examiner.id,
            "size": batch.size,
            "start": batch.start,
            "only": batch.only,
            "l_state": LeaseState.HELD.value,
            "l_now": batch.now,
            "l_expires": expires,
        },
    )
    items = []
    for row in rows:
        _note_checked(checked, row, plain=True)
        items.append(_claimed(row, expires, plain=True))
    return items


def _take(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    batch: _Take,
    checked: dict[str, Checked],
) -> list[Claimed]:
    me, now, expires = examiner.id, batch.now, batch.expires
    ids: list[int] = []
    for row in _rooms(db, exam, examiner, batch.only):
        want = min(row.room, batch.size - len(ids))
        if want > 0:
            params = {"group_id": row.group_id, "me": me, "start": batch.start, "size": want}
            ids += db.scalars(CANDIDATES, params)
    if not ids:
        return []
    db.execute(
        insert(Lease),
        [
            {
                "response_id": rid,
                "examiner_id": me,
                "state": LeaseState.HELD,
                "created_at": now,
                "expires_at": expires,
            }
            for rid in ids
        ],
    )
    db.execute(HOLD, {"ids": ids})
    return describe(db, ids, expires_at=expires, checked=checked)


def describe(
    db: Session,
    ids: list[int],
    *,
    expires_at: dt.datetime,
    checked: dict[str, Checked] | None = None,
) -> list[Claimed]:
    # Plain columns, not ORM objects: this runs for every batch claimed.
    items = []
    for row in db.execute(DESCRIBE, {"ids": ids}):
        if checked is not None:
            _note_checked(checked, row, plain=False)
        items.append(_claimed(row, expires_at))
    return items


def _claimed(row: Any, expires_at: dt.datetime, *, plain: bool = False) -> Claimed:
    """A described row as the examiner sees it; ``plain``: the driver's own values (the
    question type as text, max and step in thousandths), not SQLAlchemy's."""
    kind, maximum, step = row[4], row[7], row[8]
    if plain:
        maximum, step = decimals((maximum, step))
    else:
        kind = kind.value
    return Claimed(
        response_id=row[0],
        script_code=row[1],
        component=row[2],
        question=row[3],
        question_type=kind,
        text=row[5],
        image_sha256=row[6],
        max=maximum,
        step=step,
        group=row[9],
        reference=row[10],
        scheme=row[11],
        expires_at=expires_at,
        blank=bool(row[12]),
    )


def open_counts(db: Session, exam: ExamSession) -> dict[str, int]:
    """Responses by state for the session (examiner-marked ones only)."""
    rows = db.execute(
        select(Response.state, func.count())
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, Response.group_id.is_not(None))
        .group_by(Response.state)
    ).all()
    return {state.value: count for state, count in rows}

"""Which seed an examiner is shown next (DESIGN §13): one of the group's seeds in force whose
response is complete and that the examiner never marked, held or was shown as any check."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import BigInteger, Integer, bindparam, exists, or_, select, union_all
from sqlalchemy.orm import Session

from marking.store.models import Lease, Mark, Response, ResponseState
from marking.store.models.checks import CheckItem, CheckMark, CheckPurpose

SEED_PROBE = 8  # seeds probed at once for one the examiner has not met

_ME = bindparam("me", type_=Integer)
_GROUP = bindparam("g", type_=Integer)
# Seeds of a group in force whose response is no longer open (a handful per group).
# Statements built once: a claim runs them.
SEEDS = (
    select(CheckItem.id, CheckItem.response_id, CheckItem.value)
    .join(Response, Response.id == CheckItem.response_id)
    .where(
        CheckItem.group_id == _GROUP,
        CheckItem.purpose == CheckPurpose.SEED,
        CheckItem.retired_at.is_(None),
        Response.state.in_([ResponseState.FINAL, ResponseState.ARBITRATION]),
    )
    .order_by(CheckItem.id)
)
# One the examiner never met (marked, held or was shown as any check), in an order the
# claim's randomness draws: response id times a random multiplier modulo a prime, a fresh
# permutation each time (an added key would only rotate one fixed order, and the seeds an
# examiner met would cluster in it). Integer arithmetic, alike on SQLite and PostgreSQL;
# reproducible with a seeded ``rng``. One statement over all the group's seeds: asked only
# when a probe of a few (below) found none, so an examiner who has met most seeds, or all,
# costs one statement, not a scan of every seed in small probes.
_PRIME = 4294967291
_SALT = bindparam("salt", type_=BigInteger)
# Whether the examiner met the seed's response: one OR of three probes, so that PostgreSQL
# probes the (response, examiner) indexes seed by seed as SQLite does, rather than turning
# NOT EXISTS into anti-joins that read the examiner's whole history (17 ms a seed).
_MET = or_(
    exists().where(Mark.response_id == CheckItem.response_id, Mark.examiner_id == _ME),
    exists().where(Lease.response_id == CheckItem.response_id, Lease.examiner_id == _ME),
    exists().where(CheckMark.response_id == CheckItem.response_id, CheckMark.examiner_id == _ME),
)
_ALL_SEEDS = (
    SEEDS.order_by(None)
    .add_columns(((CheckItem.response_id * _SALT) % _PRIME).label("k"), _MET.label("met"))
    .subquery("seeds")
)
FRESH_SEED = (
    select(_ALL_SEEDS.c.id, _ALL_SEEDS.c.response_id, _ALL_SEEDS.c.value)
    .where(~_ALL_SEEDS.c.met)
    .order_by(_ALL_SEEDS.c.k, _ALL_SEEDS.c.id)
    .limit(1)
)
# A few of them in an order the claim's randomness draws: response id times a random
# multiplier modulo a prime, a fresh permutation each time (an added key would only rotate
# one fixed order, and the seeds an examiner met would cluster in it). Integer arithmetic,
# alike on SQLite and PostgreSQL; reproducible with a seeded ``rng``.
SOME_SEEDS = (
    SEEDS.order_by(None)
    .order_by((CheckItem.response_id * _SALT) % _PRIME, CheckItem.id)
    .limit(SEED_PROBE)
)
# Which of those responses the examiner marked, held or was shown (as any check): probed by
# response through each table's response index, never a scan of the examiner's history.
_AMONG: Any = bindparam("ids", expanding=True)
SEEN = union_all(
    select(Mark.response_id).where(Mark.response_id.in_(_AMONG), Mark.examiner_id == _ME),
    select(Lease.response_id).where(Lease.response_id.in_(_AMONG), Lease.examiner_id == _ME),
    select(CheckMark.response_id).where(
        CheckMark.response_id.in_(_AMONG), CheckMark.examiner_id == _ME
    ),
)


def seed_for(db: Session, group_id: int, examiner_id: int, rng: random.Random) -> Any:
    """A seed the examiner may be shown now (id, response, definitive mark), or None."""
    conn = db.connection()
    # A few in a random order first: an examiner has met few of a group's seeds, so one of
    # them almost always will do (reading and probing every seed would cost more than a mark).
    salt = rng.randrange(1, _PRIME)
    some = conn.execute(SOME_SEEDS, {"g": group_id, "salt": salt}).all()
    found = _fresh(conn, some, examiner_id)
    if found is not None or len(some) < SEED_PROBE:
        return found
    # None of a few: ask once over all the group's seeds.
    params = {"g": group_id, "me": examiner_id, "salt": rng.randrange(1, _PRIME)}
    return conn.execute(FRESH_SEED, params).first()


def _fresh(conn: Any, rows: Any, examiner_id: int) -> Any:
    """The first of these seeds whose response the examiner never met, or None."""
    if not rows:
        return None
    ids = [r.response_id for r in rows]
    seen = set(conn.execute(SEEN, {"ids": ids, "me": examiner_id}).scalars())
    return next((r for r in rows if r.response_id not in seen), None)

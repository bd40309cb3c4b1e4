"""Which seed an examiner is shown next (DESIGN §13): one of the group's seeds in force whose
response is complete, that the examiner never marked, held or was shown as any check, and
whose script they are not excluded from (recusal, R10)."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import BigInteger, Integer, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from marking.store.models import Exclusion, Lease, Mark, Response, ResponseState
from marking.store.models.checks import CheckItem, CheckMark, CheckPurpose

SEED_PROBE = 8  # seeds probed at once for one the examiner has not met

_ME = bindparam("me", type_=Integer)
_GROUP = bindparam("g", type_=Integer)
# Seeds of a group in force whose response is no longer open (a handful per group).
# Statements built once: a claim runs them.
SEEDS = (
    select(CheckItem.id, CheckItem.response_id, CheckItem.value, Response.script_id)
    .join(Response, Response.id == CheckItem.response_id)
    .where(
        CheckItem.group_id == _GROUP,
        CheckItem.purpose == CheckPurpose.SEED,
        CheckItem.retired_at.is_(None),
        or_(Response.state == ResponseState.FINAL, Response.state == ResponseState.ARBITRATION),
    )
    .order_by(CheckItem.id)
)
# The group's seeds in an order the claim's randomness draws: response id times a random
# multiplier modulo a prime, a fresh permutation each time (an added key would only rotate
# one fixed order, and the seeds an examiner met would cluster in it). Integer arithmetic,
# alike on SQLite and PostgreSQL; reproducible with a seeded ``rng``. OFFSET 0 keeps it a
# step of its own (neither database folds a subquery with one into the outer query), so the
# outer query reads its rows in that order and stops at the first it keeps.
PRIME = 4294967291
_SALT = bindparam("salt", type_=BigInteger)
_KEY = ((CheckItem.response_id * _SALT) % PRIME).label("k")
_SHUFFLED = SEEDS.order_by(None).order_by(_KEY, CheckItem.id).offset(0).subquery("seeds")
# Whether the examiner met the seed's response (marked, held or was shown it as any check)
# or may not see it (excluded from its script: recusal holds for seeds as for live work):
# one negated OR of four probes by (response or script, examiner), evaluated row by row as
# the shuffled seeds come, so only the seeds up to the first fresh one are probed (as a NOT
# EXISTS each, PostgreSQL would turn them into anti-joins reading the examiner's history).
_MET = or_(
    exists().where(Mark.response_id == _SHUFFLED.c.response_id, Mark.examiner_id == _ME),
    exists().where(Lease.response_id == _SHUFFLED.c.response_id, Lease.examiner_id == _ME),
    exists().where(CheckMark.response_id == _SHUFFLED.c.response_id, CheckMark.examiner_id == _ME),
    exists().where(Exclusion.script_id == _SHUFFLED.c.script_id, Exclusion.examiner_id == _ME),
)
FRESH_SEED = (
    select(_SHUFFLED.c.id, _SHUFFLED.c.response_id, _SHUFFLED.c.value).where(~_MET).limit(1)
)


def seed_for(db: Session, group_id: int, examiner_id: int, rng: random.Random) -> Any:
    """A seed the examiner may be shown now (id, response, definitive mark), or None: one
    statement, which probes the shuffled seeds only up to the first the examiner never met."""
    params = {"g": group_id, "me": examiner_id, "salt": rng.randrange(1, PRIME)}
    return db.connection().execute(FRESH_SEED, params).first()

"""Which seed an examiner is shown next (DESIGN §13): one of the group's seeds in force whose
response is complete, that the examiner never marked, held or was shown as any check, and
whose script they are not excluded from (recusal, R10)."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import BigInteger, Integer, bindparam, literal, or_, select
from sqlalchemy.orm import Session

from marking.store.models import Exclusion, Lease, Mark, Response, ResponseState
from marking.store.models.checks import CheckItem, CheckMark, CheckPurpose

_ME = bindparam("me", type_=Integer)
_GROUP = bindparam("g", type_=Integer)
# The group's seeds in force in an order the claim's randomness draws: response id times a
# random multiplier modulo a prime, a fresh permutation each time (an added key would only
# rotate one fixed order, and the seeds an examiner met would cluster in it). Integer
# arithmetic, alike on SQLite and PostgreSQL; reproducible with a seeded ``rng``. Only
# ``check_item`` is read and sorted (a handful of rows per group); OFFSET 0 keeps it a step of
# its own (neither database folds a subquery with one into the outer query), so the outer
# query reads its rows in that order and stops at the first it keeps. Statements built once:
# a claim runs them.
PRIME = 4294967291
_SALT = bindparam("salt", type_=BigInteger)
_KEY = ((CheckItem.response_id * _SALT) % PRIME).label("k")
_SHUFFLED = (
    select(CheckItem.id, CheckItem.response_id, CheckItem.value)
    .where(
        CheckItem.group_id == _GROUP,
        CheckItem.purpose == CheckPurpose.SEED,
        CheckItem.retired_at.is_(None),
    )
    .order_by(_KEY, CheckItem.id)
    .offset(0)
    .subquery("seeds")
)


def _of_response(column: Any) -> Any:
    """A value of the shuffled seed's response, read by its key for that row alone."""
    # Correlated to the seeds at whatever depth it is used (inside a probe too).
    found = select(column).where(Response.id == _SHUFFLED.c.response_id)
    return found.correlate_except(Response).scalar_subquery()


# Whether the seed's response is complete (no longer open: all its marks are in). A scalar
# read per row, not a join: joining would read every seed's response before the sort.
_COMPLETE = _of_response(
    or_(Response.state == ResponseState.FINAL, Response.state == ResponseState.ARBITRATION)
)


def _found(*where: Any) -> Any:
    """Whether a row meets ``where``, asked for the current seed alone: a scalar read with
    LIMIT 1, which neither database turns into a join or a hash of the examiner's rows (as
    EXISTS may become once the planner thinks the examiner has few)."""
    return select(literal(1)).where(*where).limit(1).scalar_subquery().is_not(None)


# Whether the examiner met the seed's response (marked, held or was shown it as any check)
# or may not see it (excluded from its script: recusal holds for seeds as for live work):
# four probes by (response or script, examiner), evaluated row by row as the shuffled seeds
# come, so only the seeds up to the first fresh one are probed, each by its key.
_MET = or_(
    _found(Mark.response_id == _SHUFFLED.c.response_id, Mark.examiner_id == _ME),
    _found(Lease.response_id == _SHUFFLED.c.response_id, Lease.examiner_id == _ME),
    _found(CheckMark.response_id == _SHUFFLED.c.response_id, CheckMark.examiner_id == _ME),
    _found(Exclusion.script_id == _of_response(Response.script_id), Exclusion.examiner_id == _ME),
)
FRESH_SEED = (
    select(_SHUFFLED.c.id, _SHUFFLED.c.response_id, _SHUFFLED.c.value)
    .where(_COMPLETE, ~_MET)
    .limit(1)
)


def seed_for(db: Session, group_id: int, examiner_id: int, rng: random.Random) -> Any:
    """A seed the examiner may be shown now (id, response, definitive mark), or None: one
    statement, which probes the shuffled seeds only up to the first the examiner never met."""
    params = {"g": group_id, "me": examiner_id, "salt": rng.randrange(1, PRIME)}
    return db.connection().execute(FRESH_SEED, params).first()

"""Which of an examiner's marks comes back to them as a 回评 (DESIGN §13): one of their own
marks in force in the group, not one of their last ``REMARK_RECENT`` there, never one shown
as a 回评 before.

Picked at a random point of the examiner's marks in the group: the first that will do at or
after a random mark id between their first mark there and their ``REMARK_RECENT``-th latest,
or, when none after it will, the first from their first mark on. Short walks of the
examiner's marks in the group in order (``ix_mark_examiner_group``, on the group each mark
records), never a read of their whole history nor of their marks' responses: a claim asks
this, and an examiner may have marked thousands. A mark is drawn with a chance
that grows with the gap of mark ids before it (marks of others in between): random, and out
of the examiner's sight, which is what a 回评 needs; not equal for every mark.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import Integer, bindparam, exists, select
from sqlalchemy.orm import Session

from marking.store.models import Mark, MarkWithdrawal, effective_value
from marking.store.models.checks import CheckMark, CheckPurpose

REMARK_RECENT = 10  # a 回评 is never one of the examiner's last 10 marks in the group

_ME = bindparam("me", type_=Integer)
_GROUP = bindparam("g", type_=Integer)
# The examiner's marks in the group, in the order made: a walk of ``ix_mark_examiner_group``.
_MINE = select(Mark.id).where(Mark.examiner_id == _ME, Mark.group_id == _GROUP)
# The span a 回评 is drawn from: the examiner's first mark in the group, and their
# REMARK_RECENT-th latest (it and those after it are too recent).
SPAN = select(
    _MINE.order_by(Mark.id).limit(1).scalar_subquery(),
    _MINE.order_by(Mark.id.desc()).offset(REMARK_RECENT - 1).limit(1).scalar_subquery(),
)
# The first mark of the span from ``lo`` (before ``hi``) that may be shown as a 回评.
FIRST_FROM = (
    select(Mark.id, Mark.response_id, effective_value())
    .where(
        Mark.examiner_id == _ME,
        Mark.group_id == _GROUP,
        Mark.id >= bindparam("lo"),
        Mark.id < bindparam("hi"),
        ~exists().where(MarkWithdrawal.mark_id == Mark.id),
        ~exists().where(
            CheckMark.examiner_id == _ME,
            CheckMark.response_id == Mark.response_id,
            CheckMark.purpose == CheckPurpose.REMARK,
        ),
    )
    .order_by(Mark.id)
    .limit(1)
)


def remark_for(db: Session, group_id: int, examiner_id: int, rng: random.Random) -> Any:
    """One of the examiner's own marks for a 回评 (mark id, response, value in force), or
    None when none may be shown yet."""
    conn = db.connection()
    params: dict[str, Any] = {"g": group_id, "me": examiner_id}
    first, cut = conn.execute(SPAN, params).one()
    if first is None or cut is None or first >= cut:
        return None
    at = rng.randrange(first, cut)
    found = conn.execute(FIRST_FROM, {**params, "lo": at, "hi": cut}).first()
    if found is None and at > first:
        found = conn.execute(FIRST_FROM, {**params, "lo": first, "hi": at}).first()
    return found

"""The check schedule (DESIGN §13), pure: where in an examiner's stream of live responses the
seeds and 回评 go. A rate r gives a window W = floor(1/r); in each block of W live responses
one check goes in at a random position of the block. ``marking.quality.checks`` keeps the
counters on the examiner's assignment and hands the checks out.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal


def window(rate: Decimal) -> int:
    """Live responses per check at ``rate`` (0: no checks)."""
    return int(1 / rate) if rate > 0 else 0


def first_due(handed: int, width: int, rng: random.Random) -> int:
    """Where the check of the block holding ``handed`` goes."""
    return (handed // width) * width + rng.randrange(width)


def next_due(due: int, handed: int, width: int, rng: random.Random) -> int:
    """Where the next check goes once the one due at ``due`` was given at count ``handed``:
    in the block after ``due``'s, or in the current block if that one lies further back
    (one owed check is caught up, not a run of them)."""
    block = max(due // width + 1, handed // width)
    return block * width + rng.randrange(width)


def slot(due: int, handed_before: int, count: int) -> int | None:
    """The position among a group's ``count`` live responses of a batch (handed from
    ``handed_before`` on) before which a check due at ``due`` goes; None: not due yet."""
    if due >= handed_before + count:
        return None
    return max(0, due - handed_before)


def schedule(
    due: int,
    before: int,
    count: int,
    width: int,
    rng: random.Random,
    give: Callable[[int, int], bool],
) -> int:
    """Hand the checks due among a batch's ``count`` live responses (handed from ``before``
    on): ``give(at, following)`` hands one before the ``at``-th and, if it can, records that
    the next one is due at ``following``; False when none can be given (then it stays owed).
    Returns where the next one is due."""
    while (at := slot(due, before, count)) is not None:
        following = next_due(due, before + at, width, rng)
        if not give(at, following):
            break
        due = following
    return due

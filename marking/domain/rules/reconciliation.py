"""Reconciliation of one response (DESIGN §5) and the rounding of a mean to the step."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from typing import ClassVar, Literal, TypeAlias

from marking.domain.rules.marks import from_milli, milli

# --- rounding -------------------------------------------------------------------------


def round_mean_to_step(total_milli: int, count: int, step_milli: int) -> int:
    """The mean ``total / count`` rounded half-up to a multiple of ``step`` (all in milli).

    final = step × ⌊mean / step + ½⌋, computed as
    ⌊(2·total + count·step) / (2·count·step)⌋ · step, so 7.5 on step 1 gives 8 and
    7.25 on step 0.5 gives 7.5. Raises ValueError for a negative total, a count below 1
    or a step below 1 milli, and TypeError for anything but integers.
    """
    total, n, step = (operator.index(v) for v in (total_milli, count, step_milli))
    if total < 0:
        raise ValueError(f"total {total} is negative: marks are never below 0")
    if n < 1:
        raise ValueError(f"count {n}: a mean needs at least one mark")
    if step < 1:
        raise ValueError(f"step {step} must be at least 1 milli")
    return (2 * total + n * step) // (2 * n * step) * step


def round_mean_to_step_decimal(marks: Sequence[Decimal], step: Decimal) -> Decimal:
    """``round_mean_to_step`` on exact decimal marks: the rounded mean, as a Decimal."""
    total = sum(milli(m) for m in marks)
    return from_milli(round_mean_to_step(total, len(marks), milli(step)))


# --- reconciliation of one response (DESIGN §5) ---------------------------------------


class Status(IntEnum):
    """Codes shared by ``reconcile`` outcomes and ``reconcile_many``'s status array."""

    FINAL = 0
    NEEDS_MARKS = 1
    NEEDS_THIRD = 2
    NEEDS_ARBITRATION = 3


Rule: TypeAlias = Literal["agreed", "third_one", "third_both", "all_within"]


@dataclass(frozen=True, slots=True)
class NeedsMarks:
    """Fewer marks than the rule needs so far; ``missing`` more are due."""

    missing: int
    status: ClassVar[Status] = Status.NEEDS_MARKS


@dataclass(frozen=True, slots=True)
class NeedsThird:
    """Two marks further apart than the tolerance: a third examiner marks it, blind."""

    status: ClassVar[Status] = Status.NEEDS_THIRD


@dataclass(frozen=True, slots=True)
class NeedsArbitration:
    """The marks cannot be reconciled; the lead examiner's arbitration mark is final."""

    status: ClassVar[Status] = Status.NEEDS_ARBITRATION


@dataclass(frozen=True, slots=True)
class Final:
    """A final mark (milli) by ``rule``, the mean of the marks at indices ``pair``.

    ``pair`` holds indices into the marks as given (two of them for the double- and
    third-mark rules, all N for ``all_within``), so a report can show which were used.
    """

    value: int
    rule: Rule
    pair: tuple[int, ...]
    status: ClassVar[Status] = Status.FINAL

    @property
    def mark(self) -> Decimal:
        """The final mark as an exact Decimal."""
        return from_milli(self.value)


Outcome: TypeAlias = NeedsMarks | NeedsThird | NeedsArbitration | Final


def _check_rule_parameters(tolerance: int, step: int, required: int) -> None:
    if tolerance < 0:
        raise ValueError(f"tolerance {tolerance} is negative")
    if step < 1:
        raise ValueError(f"step {step} must be at least 1 milli")
    if required < 2:
        raise ValueError(f"{required} marks required: every response needs at least 2")


def _most_marks(required: int) -> int:
    # Double marking may add a third mark; N > 2 marking never goes beyond N.
    return 3 if required == 2 else required


def reconcile(marks: Sequence[int], *, tolerance: int, step: int, required: int) -> Outcome:
    """Reconcile the marks of one response (milli), in the order they were given.

    For ``required == 2``: ``marks[0]`` and ``marks[1]`` are the independent marks a and
    b, ``marks[2]`` (if any) the third mark c.

    - |a − b| ≤ T: ``Final`` "agreed", the mean of a and b (a third mark is ignored);
    - otherwise, without c: ``NeedsThird``;
    - c within T of exactly one of a, b: "third_one", the mean of c and that one;
    - c within T of both: "third_both", the mean of the closer pair; when c is exactly
      halfway, the higher pair (the one with the larger mean);
    - c within T of neither: ``NeedsArbitration``.

    For ``required == N > 2``: all N within T (max − min ≤ T) gives "all_within", their
    mean; otherwise ``NeedsArbitration``. Fewer marks than needed give ``NeedsMarks``.
    Means are rounded half-up to the step (``round_mean_to_step``).

    Raises ValueError for inconsistent input: a negative mark, a negative tolerance, a
    step below 1 milli, fewer than 2 marks required, or more marks than the rule allows
    (3 when 2 are required, N otherwise); TypeError for anything but integers.
    """
    values = [operator.index(m) for m in marks]
    tolerance, step, required = (operator.index(v) for v in (tolerance, step, required))
    _check_rule_parameters(tolerance, step, required)
    for i, value in enumerate(values):
        if value < 0:
            raise ValueError(f"mark {i} is {value}: marks are never below 0")
    n = len(values)
    if n > _most_marks(required):
        raise ValueError(
            f"{n} marks where {required} are required: at most {_most_marks(required)}"
        )

    if required == 2:
        if n < 2:
            return NeedsMarks(2 - n)
        a, b = values[0], values[1]
        if abs(a - b) <= tolerance:
            return Final(round_mean_to_step(a + b, 2, step), "agreed", (0, 1))
        if n == 2:
            return NeedsThird()
        c = values[2]
        to_a, to_b = abs(c - a), abs(c - b)
        near_a, near_b = to_a <= tolerance, to_b <= tolerance
        rule: Rule
        if near_a and near_b:
            # Closer first; on equal distances the higher partner makes the higher pair.
            partner = 0 if (to_a, -a) < (to_b, -b) else 1
            rule = "third_both"
        elif near_a or near_b:
            partner = 0 if near_a else 1
            rule = "third_one"
        else:
            return NeedsArbitration()
        return Final(round_mean_to_step(c + values[partner], 2, step), rule, (partner, 2))

    if n < required:
        return NeedsMarks(required - n)
    if max(values) - min(values) <= tolerance:
        return Final(round_mean_to_step(sum(values), n, step), "all_within", tuple(range(n)))
    return NeedsArbitration()


def reconcile_decimal(
    marks: Sequence[Decimal], *, tolerance: Decimal, step: Decimal, required: int
) -> Outcome:
    """``reconcile`` on exact decimal marks; a ``Final`` still holds milli (see ``.mark``)."""
    return reconcile(
        [milli(m) for m in marks], tolerance=milli(tolerance), step=milli(step), required=required
    )

"""Component scores, the interview (R7) and the candidate's outcome (DESIGN §11)."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from marking.domain.rules.arrays import ARRAY_LIMIT, IntArray, first_true, int_array
from marking.domain.rules.marks import MILLI

#: A component passes at 60.0, i.e. 600 tenths of a point of its rounded score.
COMPONENT_PASS_TENTHS = 600
#: 60 points in milli: the interview's pass mark for each examiner's score and the mean.
PASS_MILLI = 60 * MILLI
#: Interview scores are out of 100.
INTERVIEW_MAX_MILLI = 100 * MILLI
_PANEL_MINIMUM = 3


# --- component scores -----------------------------------------------------------------


def component_score_tenths(sum_finals_milli: int, max_total_milli: int) -> int:
    """The component score in tenths of a point: sum × 100 / max, rounded half-up.

    Raises ValueError for a negative sum, a maximum below 1 milli or a sum above the
    maximum (finals never exceed their questions' maxima).
    """
    total, top = operator.index(sum_finals_milli), operator.index(max_total_milli)
    if top < 1:
        raise ValueError(f"component maximum {top} must be at least 1 milli")
    if not 0 <= total <= top:
        raise ValueError(f"sum of finals {total} is outside [0, {top}] (the maximum)")
    # score·10 = 1000·sum / max; half-up: ⌊(2000·sum + max) / (2·max)⌋.
    return (2000 * total + top) // (2 * top)


def component_score(sum_finals_milli: int, max_total_milli: int) -> Decimal:
    """The component score out of 100 with one decimal (Decimal("73.5"), Decimal("100.0"))."""
    return Decimal(component_score_tenths(sum_finals_milli, max_total_milli)).scaleb(-1)


def component_scores(sums: npt.ArrayLike, max_total: int) -> IntArray:
    """``component_score_tenths`` for many candidates: int64 tenths (735 for 73.5).

    Raises ValueError as the scalar does, and for a maximum above 2**40 milli.
    """
    top = operator.index(max_total)
    if not 1 <= top <= ARRAY_LIMIT:
        raise ValueError(f"component maximum {top} is outside [1, 2**40] milli")
    totals = int_array("sums", sums)
    bad = (totals < 0) | (totals > top)
    if bad.any():
        index = np.unravel_index(first_true(bad), totals.shape)
        raise ValueError(f"sum of finals {totals[index]} at {index} is outside [0, {top}]")
    result = totals * 2000
    result += top
    result //= 2 * top
    return result


def component_passed(score: Decimal) -> bool:
    """A component passes at 60.0, judged on its rounded one-decimal score."""
    return score * 10 >= COMPONENT_PASS_TENTHS


# --- interview (R7, levels 1-2) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InterviewResult:
    """An interview's score (mean, one decimal) and verdict, or why there is none.

    No scores at all: absent (everything None). A ``problem`` stops publication; score
    and verdict are then None.
    """

    score: Decimal | None
    passed: bool | None
    problem: str | None = None


def interview_result(
    scores_milli: Sequence[int], senior_flags: Sequence[bool] | None = None
) -> InterviewResult:
    """The interview of one candidate by R7, from the panel's scores (milli, out of 100).

    ``senior_flags[i]`` says whether score i comes from a senior examiner (None: all
    do); the panel is the senior examiners. Fewer than 3 of them is a problem. Otherwise
    the score is the panel mean rounded half-up to one decimal, and the candidate passes
    when at least two thirds of the panel score ≥ 60 and the exact mean is ≥ 60.

    Raises ValueError for a score outside [0, 100] or flags that do not match the scores.
    """
    scores = [operator.index(s) for s in scores_milli]
    for i, score in enumerate(scores):
        if not 0 <= score <= INTERVIEW_MAX_MILLI:
            raise ValueError(f"interview score {i} is {score} milli, outside [0, 100]")
    if not scores:
        return InterviewResult(score=None, passed=None)
    if senior_flags is None:
        panel = scores
    else:
        if len(senior_flags) != len(scores):
            raise ValueError(f"{len(senior_flags)} senior flags for {len(scores)} scores")
        panel = [s for s, senior in zip(scores, senior_flags, strict=True) if senior]
    size = len(panel)
    if size < _PANEL_MINIMUM:
        examiners = "examiner" if size == 1 else "examiners"
        problem = f"panel of {size} senior {examiners}; at least {_PANEL_MINIMUM} are needed"
        return InterviewResult(score=None, passed=None, problem=problem)
    total = sum(panel)
    # mean·10 in points = total / (100·size); half-up: ⌊(2·total + 100·size) / (200·size)⌋.
    tenths = (2 * total + 100 * size) // (200 * size)
    high = sum(1 for s in panel if s >= PASS_MILLI)
    passed = 3 * high >= 2 * size and total >= PASS_MILLI * size
    return InterviewResult(score=Decimal(tenths).scaleb(-1), passed=passed)


# --- the candidate's outcome (DESIGN §11) -----------------------------------------------

ResultOutcome: TypeAlias = Literal["void", "absent", "pass", "fail"]


def outcome(
    *,
    voided: bool,
    absent_any: bool,
    components_passed: Sequence[bool],
    interview_passed: bool | None,
    needs_interview: bool,
) -> ResultOutcome:
    """A candidate's outcome: ``void``, ``absent``, ``pass`` or ``fail``.

    ``voided``: a violation of theirs is void or terminated (it wins over everything).
    ``absent_any``: absent from some component; for levels 1-2 (``needs_interview``)
    an interview without scores (``interview_passed`` None) is an absence too.
    ``components_passed``: the verdict of each component the candidate sat. An interview
    with a ``problem`` stops publication before any outcome is computed.

    Raises ValueError for an interview verdict where no interview is held, or no
    component verdict for a candidate who is not absent.
    """
    if not needs_interview and interview_passed is not None:
        raise ValueError("an interview verdict for a level without an interview")
    if voided:
        return "void"
    if absent_any or (needs_interview and interview_passed is None):
        return "absent"
    if not components_passed:
        raise ValueError("no component verdicts for a candidate who is not absent")
    if all(components_passed) and (not needs_interview or interview_passed):
        return "pass"
    return "fail"

"""Component scores, the interview (R7) and the candidate's outcome (DESIGN §11)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from marking.domain.rules import (
    InterviewResult,
    component_passed,
    component_score,
    component_score_tenths,
    component_scores,
    interview_result,
    outcome,
)
from tests.unit.rules_helpers import m

# --- component scores --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "top", "score"),
    [
        ("147", "200", "73.5"),
        ("100", "100", "100.0"),
        ("0", "150", "0.0"),
        ("73.25", "100", "73.3"),  # half-up at the exact half
        ("73.24", "100", "73.2"),
        ("119.9", "200", "60.0"),  # 59.95
        ("119.8", "200", "59.9"),
        ("1", "3", "33.3"),
        ("2", "3", "66.7"),
    ],
)
def test_component_score_is_scaled_to_100_and_rounded_half_up(
    total: str, top: str, score: str
) -> None:
    result = component_score(m(total), m(top))
    assert result == Decimal(score)
    assert str(result) == score  # one decimal place, always
    assert component_score_tenths(m(total), m(top)) == int(Decimal(score) * 10)


def test_a_component_passes_on_its_rounded_score() -> None:
    # 119.9 / 200 is 59.95 exactly; the score is 60.0, and a component passes at >= 60
    assert component_passed(component_score(m("119.9"), m(200)))
    assert not component_passed(component_score(m("119.8"), m(200)))
    assert component_passed(Decimal("60.0"))
    assert not component_passed(Decimal("59.9"))


@pytest.mark.parametrize(("total", "top"), [(-1, 1000), (1001, 1000), (0, 0)])
def test_component_score_refuses_impossible_sums(total: int, top: int) -> None:
    with pytest.raises(ValueError):
        component_score(total, top)


@given(st.integers(1, 10**9), st.data())
def test_component_scores_agree_with_component_score(top: int, data: st.DataObject) -> None:
    sums = data.draw(st.lists(st.integers(0, top), min_size=1, max_size=50))
    tenths = component_scores(np.array(sums, dtype=np.int64), top)
    assert tenths.dtype == np.int64
    expected = [component_score(s, top) for s in sums]
    assert [Decimal(int(t)).scaleb(-1) for t in tenths] == expected


def test_component_scores_refuse_impossible_sums() -> None:
    with pytest.raises(ValueError):
        component_scores(np.array([100, 201]), 200)
    with pytest.raises(ValueError):
        component_scores(np.array([100, -1]), 200)
    with pytest.raises(ValueError):
        component_scores(np.array([1]), 0)


# --- interview (R7) ----------------------------------------------------------------------


def interview(*scores: str, seniors: list[bool] | None = None) -> InterviewResult:
    return interview_result([m(s) for s in scores], seniors)


def test_interview_needs_two_thirds_at_60_and_a_mean_of_60() -> None:
    # two of three at 60, but the mean is 59.67
    assert interview("60", "60", "59") == InterviewResult(Decimal("59.7"), False)
    # two of three at 60 and a mean of 63.3
    assert interview("70", "70", "50") == InterviewResult(Decimal("63.3"), True)
    # a mean of 66.7, but only one of three at 60
    assert interview("90", "55", "55") == InterviewResult(Decimal("66.7"), False)


def test_interview_boundaries_pass() -> None:
    assert interview("60", "60", "60") == InterviewResult(Decimal("60.0"), True)
    assert interview("100", "60", "20") == InterviewResult(Decimal("60.0"), True)


def test_interview_two_of_four_is_less_than_two_thirds() -> None:
    assert interview("100", "100", "59", "59") == InterviewResult(Decimal("79.5"), False)
    assert interview("100", "100", "100", "59").passed is True  # 3 of 4


def test_interview_passes_on_the_exact_mean_not_the_rounded_score() -> None:
    # mean 59.9667 shows as 60.0, but R7 asks for a mean >= 60: it fails
    assert interview("60", "60", "59.9") == InterviewResult(Decimal("60.0"), False)


def test_interview_score_rounds_half_up() -> None:
    # (60.1 + 60 + 60.05) / 3 = 60.05 exactly
    assert interview("60.1", "60", "60.05").score == Decimal("60.1")


def test_a_panel_of_fewer_than_three_seniors_stops_publication() -> None:
    result = interview("80", "80")
    assert result.problem == "panel of 2 senior examiners; at least 3 are needed"
    assert (result.score, result.passed) == (None, None)
    assert interview("80").problem == "panel of 1 senior examiner; at least 3 are needed"


def test_only_senior_examiners_make_the_panel() -> None:
    result = interview("80", "80", "80", seniors=[True, True, False])
    assert result.problem == "panel of 2 senior examiners; at least 3 are needed"
    # the non-senior score is not part of the panel's mean either
    assert interview("80", "70", "90", "0", seniors=[True, True, True, False]) == (
        InterviewResult(Decimal("80.0"), True)
    )


def test_no_interview_scores_is_absence() -> None:
    assert interview() == InterviewResult(None, None, None)


@pytest.mark.parametrize(
    ("scores", "seniors"), [([-1, 1, 1], None), ([100_001, 1, 1], None), ([1, 1, 1], [True])]
)
def test_interview_refuses_impossible_input(scores: list[int], seniors: list[bool] | None) -> None:
    with pytest.raises(ValueError):
        interview_result(scores, seniors)


# --- outcome -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("voided", "absent", "passes", "interview_passed", "needs_interview", "expected"),
    [
        (False, False, [True, True], None, False, "pass"),
        (False, False, [True, False], None, False, "fail"),
        (True, False, [True, True], None, False, "void"),
        (True, True, [], None, False, "void"),  # void wins over absence
        (False, True, [True], None, False, "absent"),
        (False, True, [False], None, False, "absent"),
        (False, False, [True, True], True, True, "pass"),
        (False, False, [True, True], False, True, "fail"),
        (False, False, [True, False], True, True, "fail"),
        (False, False, [True, True], None, True, "absent"),  # no panel scores
        (True, False, [True, True], None, True, "void"),
    ],
)
def test_outcome(
    voided: bool,
    absent: bool,
    passes: list[bool],
    interview_passed: bool | None,
    needs_interview: bool,
    expected: str,
) -> None:
    assert (
        outcome(
            voided=voided,
            absent_any=absent,
            components_passed=passes,
            interview_passed=interview_passed,
            needs_interview=needs_interview,
        )
        == expected
    )


def test_outcome_refuses_inconsistent_input() -> None:
    with pytest.raises(ValueError):
        outcome(
            voided=False,
            absent_any=False,
            components_passed=[True],
            interview_passed=True,
            needs_interview=False,
        )
    with pytest.raises(ValueError):
        outcome(
            voided=False,
            absent_any=False,
            components_passed=[],
            interview_passed=None,
            needs_interview=False,
        )

"""The statistics as pure functions: hand-checked values, and scipy where it has the measure."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from reports.data import ComponentInfo, QuestionMarks, SessionInfo, StatsInput
from reports.stats import (
    agreement,
    histogram,
    item_rest_correlation,
    quadratic_weighted_kappa,
    statistics,
)

SESSION = SessionInfo("S", "电工", "6-31-01-03", 3, "2026-12-05", "GD-0107")


def ints(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_kappa_is_one_for_identical_raters_and_matches_a_hand_computation() -> None:
    assert quadratic_weighted_kappa(ints(0, 1, 2, 3), ints(0, 1, 2, 3), 4) == pytest.approx(1.0)
    # 2x2 worked by hand: observed [[1,1],[0,2]], weights [[0,1],[1,0]]; expected from
    # marginals rows (2,2), cols (1,3) / 4 = [[0.5,1.5],[0.5,1.5]]: 1 - 1/(1.5+0.5) = 0.5.
    assert quadratic_weighted_kappa(ints(0, 0, 1, 1), ints(0, 1, 1, 1), 2) == pytest.approx(0.5)
    # Systematic disagreement is worse than chance.
    assert quadratic_weighted_kappa(ints(0, 1, 2), ints(2, 1, 0), 3) == pytest.approx(-1.0)


def test_kappa_is_undefined_without_variation_or_pairs() -> None:
    assert quadratic_weighted_kappa(ints(1, 1), ints(1, 1), 3) is None
    assert quadratic_weighted_kappa(ints(), ints(), 3) is None
    with pytest.raises(ValueError):
        quadratic_weighted_kappa(ints(0, 3), ints(0, 1), 3)


def test_item_rest_correlation_is_pearson_of_item_and_rest() -> None:
    rng = np.random.default_rng(3)
    item = rng.integers(0, 2, 40).astype(np.float64)
    total = item * 5 + rng.normal(20, 4, 40)
    expected = sps.pearsonr(item, total - item).statistic
    assert item_rest_correlation(item, total) == pytest.approx(expected)
    # Point-biserial is the same measure for a right/wrong item.
    assert item_rest_correlation(item, total) == pytest.approx(
        sps.pointbiserialr(item.astype(bool), total - item).statistic
    )
    assert item_rest_correlation(np.ones(5), np.arange(5.0)) is None
    assert item_rest_correlation(np.ones(2), np.ones(2)) is None


def test_agreement_counts_exact_and_adjacent_within_one_step() -> None:
    # Marks in thousandths, step 0.5: differences 0, 0.5, 1.0, 0.
    a = ints(2000, 3000, 4000, 1000)
    b = ints(2000, 3500, 3000, 1000)
    step = ints(500, 500, 500, 500)
    result = agreement(a, b, step, ints(0, 0, 0, 0), ints(13, 13, 13, 13))
    assert result.pairs == 4
    assert result.exact == pytest.approx(0.5)
    assert result.adjacent == pytest.approx(0.75)
    assert result.mad == pytest.approx(0.375)
    assert result.qwk is not None and 0 < result.qwk < 1


def test_histogram_puts_100_in_the_last_band() -> None:
    counts = histogram(np.array([0.0, 9.9, 10.0, 59.9, 60.0, 100.0]))
    assert counts == [2, 1, 0, 0, 0, 1, 1, 0, 0, 1]


def test_statistics_per_group_and_examiner_from_marks() -> None:
    # Three responses of one question (max 10, step 1). Response 0: e1 4, e2 4 → final 4.
    # Response 1: e1 2, e2 6 → third mark e3 5 → final 5.5 (rule mean). Response 2:
    # e1 8, e2 9 → 8.5 ... arbitrated by the lead at 9.
    q = QuestionMarks(
        component="skills",
        number="2",
        group="prac",
        max_milli=10000,
        step_milli=1000,
        response=(0, 0, 1, 1, 1, 2, 2),
        examiner=("e1", "e2", "e1", "e2", "e3", "e1", "e2"),
        kind=("double", "double", "double", "double", "third", "double", "double"),
        value=(4000, 4000, 2000, 6000, 5000, 8000, 9000),
        final=(4000, 5500, 9000),
        rule=("mean", "third", "arbitration"),
    )
    data = StatsInput(
        session=SESSION,
        state="marking",
        components=(ComponentInfo("skills", "操作技能"),),
        groups=(("prac", "实操题"),),
        questions=(q,),
    )
    s = statistics(data)
    assert s.outcomes is None and s.components is None  # not published: no results part
    (row,) = s.questions
    assert (row.responses, row.third_rate, row.arbitration_rate) == (
        3,
        pytest.approx(1 / 3),
        pytest.approx(1 / 3),
    )
    (group,) = s.groups
    assert group.agreement.pairs == 3
    assert group.agreement.exact == pytest.approx(1 / 3)
    assert group.agreement.adjacent == pytest.approx(2 / 3)
    assert group.agreement.mad == pytest.approx((0 + 4 + 1) / 3)
    by_name = {e.examiner: e for e in s.examiners}
    assert set(by_name) == {"e1", "e2", "e3"}
    # e1 marks 4, 2, 8 against finals 4, 5.5, 9: mean deviation (0 - 3.5 - 1) / 3 = -1.5.
    assert by_name["e1"].severity == pytest.approx(-1.5)
    assert by_name["e2"].severity == pytest.approx((0 + 0.5 + 0) / 3)
    assert by_name["e3"].marks == 1 and by_name["e3"].agreement.pairs == 0
    assert by_name["e3"].severity == pytest.approx(-0.5)

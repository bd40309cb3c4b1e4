"""The rule for one response (DESIGN §5): properties that hold for any marks."""

from __future__ import annotations

from random import Random

from hypothesis import example, given
from hypothesis import strategies as st

from marking.domain.rules import Final, reconcile
from tests.unit.rules_helpers import on_step, on_step_responses, questions


@given(on_step_responses())
@example(([4000, 8000, 6000], 2000, 1000, 2))  # the halfway tie
def test_swapping_the_first_two_marks_never_changes_the_final(
    response: tuple[list[int], int, int, int],
) -> None:
    marks, tolerance, step, required = response
    swapped = [marks[1], marks[0], *marks[2:]]
    one = reconcile(marks, tolerance=tolerance, step=step, required=required)
    other = reconcile(swapped, tolerance=tolerance, step=step, required=required)
    assert type(one) is type(other)
    if isinstance(one, Final) and isinstance(other, Final):
        assert (one.value, one.rule) == (other.value, other.rule)


@given(on_step_responses().filter(lambda r: r[3] > 2), st.randoms(use_true_random=False))
def test_n_marks_are_reconciled_whatever_their_order(
    response: tuple[list[int], int, int, int], random: Random
) -> None:
    marks, tolerance, step, required = response
    shuffled = list(marks)
    random.shuffle(shuffled)
    one = reconcile(marks, tolerance=tolerance, step=step, required=required)
    assert one == reconcile(shuffled, tolerance=tolerance, step=step, required=required)


@given(on_step_responses())
@example(([0, 0], 0, 250, 2))
@example(([5000, 5000, 5000], 0, 500, 3))
def test_a_final_is_on_the_step_and_between_the_marks_it_averages(
    response: tuple[list[int], int, int, int],
) -> None:
    marks, tolerance, step, required = response
    result = reconcile(marks, tolerance=tolerance, step=step, required=required)
    if isinstance(result, Final):
        used = [marks[i] for i in result.pair]
        assert result.value % step == 0
        assert min(used) <= result.value <= max(used)
        assert max(used) - min(used) <= tolerance


@given(questions(), st.sampled_from([2, 3, 4]), st.data())
def test_equal_marks_are_final_as_they_are(
    question: tuple[int, int, int], required: int, data: st.DataObject
) -> None:
    step, top, tolerance = question
    mark = data.draw(on_step(step, top))
    result = reconcile([mark] * required, tolerance=tolerance, step=step, required=required)
    assert isinstance(result, Final)
    assert result.value == mark

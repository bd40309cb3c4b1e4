"""Shared by the rules tests: marks as people write them, strategies of questions and responses."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from marking.domain.rules import milli


def m(value: str | int) -> int:
    """A mark written as people write it ("7.5") in stored thousandths."""
    return milli(Decimal(value))


STEPS = [250, 500, 1000, 2000]  # 0.25, 0.5, 1, 2


@st.composite
def questions(draw: st.DrawFn) -> tuple[int, int, int]:
    """(step, max, tolerance) in milli; tolerances on and off the step, zero included."""
    step = draw(st.sampled_from(STEPS))
    top = step * draw(st.integers(1, 20))
    tolerance = draw(st.one_of(st.integers(0, 4).map(lambda k: k * step), st.integers(0, top)))
    return step, top, tolerance


def on_step(step: int, top: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, top // step).map(lambda k: k * step), st.sampled_from([0, top]))


@st.composite
def responses(
    draw: st.DrawFn, requireds: tuple[int, ...] = (2, 2, 2, 3, 4)
) -> tuple[list[int], int, int, int]:
    """(marks, tolerance, step, required): any count the rule allows, marks mostly on step."""
    step, top, tolerance = draw(questions())
    required = draw(st.sampled_from(requireds))
    count = draw(st.integers(0, 3 if required == 2 else required))
    mark = st.one_of(on_step(step, top), st.integers(0, top))
    marks = draw(st.lists(mark, min_size=count, max_size=count))
    return marks, tolerance, step, required


@st.composite
def on_step_responses(draw: st.DrawFn) -> tuple[list[int], int, int, int]:
    """Complete on-step responses (as marking produces them): 2 or 3 marks, or N of N."""
    step, top, tolerance = draw(questions())
    required = draw(st.sampled_from([2, 3, 4]))
    count = draw(st.sampled_from([2, 3])) if required == 2 else required
    marks = draw(st.lists(on_step(step, top), min_size=count, max_size=count))
    return marks, tolerance, step, required

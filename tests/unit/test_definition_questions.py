"""Session definitions: a question's number, bank item, type and marks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marking.domain.definition import parse_session_definition
from tests.unit.definition_helpers import (
    WHERE,
    objective,
    only_problem,
    parse_question,
    problems,
    question,
    with_questions,
)

# --- questions: identity and bank -------------------------------------------------------


def test_question_number_may_be_a_toml_integer() -> None:
    assert parse_question(question(number="7")).number == "7"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('""', "must not be empty"),
        ('"  "', "must not be empty"),
        ("true", 'must be text such as "41", not a boolean'),
        ("1.5", 'must be text such as "41", not a number'),
        ("-1", 'must be text such as "41", not an integer'),
    ],
)
def test_question_number_rules(value: str, reason: str) -> None:
    assert only_problem(with_questions(question(number=value))) == (
        "components[1].questions[1]",
        "number",
        reason,
    )


def test_question_number_missing() -> None:
    assert only_problem(with_questions(question(number=""))) == (
        "components[1].questions[1]",
        "number",
        "missing (required)",
    )


def test_duplicate_question_number_in_a_component() -> None:
    text = with_questions(question(), question(number="41", bank_item='"DG3-2041"'))
    assert only_problem(text) == (
        "components[1].questions[2] (question 41)",
        "number",
        "question 41 appears twice (also components[1].questions[1] (question 41))",
    )


R15 = "question without bank item: questions must come from the provincial bank"


@pytest.mark.parametrize("value", ["", '""', '"   "'])
def test_bank_item_is_required(value: str) -> None:
    assert only_problem(with_questions(question(bank_item=value))) == (
        "components[1].questions[1] (question 41)",
        "bank_item",
        R15,
    )


def test_bank_item_must_be_text() -> None:
    assert only_problem(with_questions(question(bank_item="1041")))[2] == (
        "must be text, not an integer"
    )


def test_bank_item_is_unique_across_the_session() -> None:
    text = with_questions(question())
    text += '\n[[components]]\nkey = "skills"\n[[components.questions]]\n'
    text += question(number='"1"', type='"practical"')
    assert only_problem(text) == (
        "components[2].questions[1] (question 1)",
        "bank_item",
        "bank item DG3-1041 is already used by components[1].questions[1] (question 41)",
    )


def test_question_type_rules() -> None:
    row, column, reason = only_problem(with_questions(question(type='"short"')))
    assert (row, column) == ("components[1].questions[1] (question 41)", "type")
    assert reason.startswith("unknown question type 'short'; expected one of single_choice, ")
    assert only_problem(with_questions(question(type="")))[1:] == ("type", "missing (required)")
    # A misspelt type does not also bring a complaint about the default step.
    misspelt = with_questions(objective("true_flase", '"T"', max="0.5"))
    assert [column for _, column, _ in problems(misspelt)] == ["type"]


# --- questions: marks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "column", "reason"),
    [
        ({"max": ""}, "max", "missing (required)"),
        ({"max": "0"}, "max", "must be greater than 0"),
        ({"max": "-5"}, "max", "must be greater than 0"),
        ({"max": '"10"'}, "max", "must be a number, not text"),
        ({"max": "true"}, "max", "must be a number, not a boolean"),
        ({"max": "inf"}, "max", "must be a finite number"),
        ({"max": "nan"}, "max", "must be a finite number"),
        ({"max": "1001"}, "max", "must be at most 1000"),
        ({"max": "10.0005"}, "max", "must be a multiple of 0.001 (marks are kept in thousandths)"),
        ({"step": "0"}, "step", "must be greater than 0"),
        ({"step": "0.0005"}, "step", "must be a multiple of 0.001 (marks are kept in thousandths)"),
        ({"step": "0.3"}, "step", "step 0.3 does not divide max 10"),
        ({"step": "20"}, "step", "step 20 does not divide max 10"),
        ({"max": "7.5"}, "step", "step 1 does not divide max 7.5"),
        ({"tolerance": "-1"}, "tolerance", "must not be negative"),
        ({"tolerance": "0.0001"}, "tolerance", "must be a multiple of 0.001 (marks are kept "),
        ({"tolerance": "11"}, "tolerance", "tolerance 11 is larger than max 10"),
        ({"tolerance": '"2"'}, "tolerance", "must be a number, not text"),
        ({"tolerance": ""}, "tolerance", "missing: a question marked by examiners needs a tol"),
    ],
)
def test_mark_rules(fields: dict[str, str], column: str, reason: str) -> None:
    row, found_column, found_reason = only_problem(with_questions(question(**fields)))
    assert (row, found_column) == (WHERE, column)
    assert found_reason.startswith(reason)


def test_step_defaults_to_one_for_subjective_questions() -> None:
    assert parse_question(question()).step == Decimal(1)


def test_zero_tolerance_is_allowed() -> None:
    assert parse_question(question(tolerance="0")).tolerance == Decimal(0)


@given(
    step_thousandths=st.integers(min_value=1, max_value=20_000),
    max_thousandths=st.integers(min_value=1, max_value=100_000),
)
def test_max_is_accepted_exactly_when_step_divides_it(
    step_thousandths: int, max_thousandths: int
) -> None:
    step = Decimal(step_thousandths) / 1000
    top = Decimal(max_thousandths) / 1000
    text = with_questions(question(max=str(top), step=str(step), tolerance="0"))
    if max_thousandths % step_thousandths == 0:
        parsed = parse_session_definition(text).components[0].questions[0]
        assert (parsed.max, parsed.step) == (top, step)
    else:
        assert only_problem(text)[1] == "step"

"""Session definitions: objective questions and their keys, subjective ones and theirs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.definition_helpers import (
    WHERE,
    objective,
    only_problem,
    parse_question,
    question,
    with_questions,
)

# --- objective questions and their keys -------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "answer", "key"),
    [
        ("single_choice", '"B"', ("B",)),
        ("single_choice", '" c "', ("C",)),
        ("single_choice", '"Ｄ"', ("D",)),
        ("multiple_choice", '"ACD"', ("ACD",)),
        ("multiple_choice", '"dca"', ("ACD",)),
        ("multiple_choice", '"A, C、D"', ("ACD",)),
        ("multiple_choice", '"B"', ("B",)),
        ("true_false", '"T"', ("T",)),
        ("true_false", '"f"', ("F",)),
        ("true_false", '"对"', ("T",)),
        ("true_false", '"错"', ("F",)),
        ("true_false", '"√"', ("T",)),
        ("true_false", '"×"', ("F",)),
        ("true_false", '"True"', ("T",)),
        ("true_false", '"FALSE"', ("F",)),
        ("true_false", "true", ("T",)),
        ("true_false", "false", ("F",)),
        ("fill_blank", '" 欧姆定律 "', ("欧姆定律",)),
        ("fill_blank", '["欧姆定律", "U=IR", "Ｕ＝ＩＲ"]', ("欧姆定律", "U=IR")),
    ],
)
def test_answer_keys_are_normalised(kind: str, answer: str, key: tuple[str, ...]) -> None:
    parsed = parse_question(objective(kind, answer))
    assert parsed.answer == key
    assert (parsed.tolerance, parsed.group) == (None, None)


@pytest.mark.parametrize(
    ("kind", "answer", "reason"),
    [
        ("single_choice", '"AB"', "'AB' is not one letter A-Z"),
        ("single_choice", '""', "'' is not one letter A-Z"),
        ("single_choice", '"1"', "'1' is not one letter A-Z"),
        ("single_choice", "1", "must be text, not an integer"),
        ("multiple_choice", '"A1"', "'A1' is not letters A-Z such as \"ACD\""),
        ("multiple_choice", '", "', "', ' is not letters A-Z such as \"ACD\""),
        ("multiple_choice", '"AAC"', "'AAC' names a letter twice"),
        ("multiple_choice", '["A", "C"]', "must be text, not an array"),
        ("true_false", '"yes"', "'yes' is not T or F (also 对/错, √/×, true/false)"),
        ("true_false", "1", "must be text, not an integer"),
        ("fill_blank", "[]", "the list of accepted answers is empty"),
        ("fill_blank", '"  "', "an accepted answer is empty"),
        ("fill_blank", '["a", ""]', "an accepted answer is empty"),
        ("fill_blank", '["a", 1]', "must be text or a list of texts, not an integer"),
        ("fill_blank", "1.5", "must be text or a list of texts, not a number"),
        ("true_false", "", "missing: an objective question needs its key"),
    ],
)
def test_bad_answer_keys(kind: str, answer: str, reason: str) -> None:
    assert only_problem(with_questions(objective(kind, answer))) == (
        "components[1].questions[1] (question 1)",
        "answer",
        reason,
    )


def test_objective_step_defaults_to_max() -> None:
    parsed = parse_question(objective("true_false", '"T"', max="0.5"))
    assert (parsed.max, parsed.step) == (Decimal("0.5"), Decimal("0.5"))
    explicit = parse_question(objective("true_false", '"T"', max="2", step="0.5"))
    assert explicit.step == Decimal("0.5")


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("tolerance = 1", "an objective question is scored from its key; tolerance does not apply"),
        (
            'group = "short"',
            "an objective question is scored from its key; it belongs to no marking group",
        ),
    ],
)
def test_objective_questions_take_no_tolerance_or_group(field: str, reason: str) -> None:
    text = with_questions(objective("single_choice", '"B"') + "\n" + field)
    assert only_problem(text) == (
        "components[1].questions[1] (question 1)",
        field.split(" = ")[0],
        reason,
    )


def test_subjective_questions_take_no_answer() -> None:
    assert only_problem(with_questions(question(answer='"B"'))) == (
        WHERE,
        "answer",
        "a question marked by examiners has no answer key; put the model answer in reference",
    )


def test_reference_and_scheme_are_kept_as_written() -> None:
    body = question(reference='"""\n  第一步：\n  第二步\n"""', scheme='"每步 5 分"')
    parsed = parse_question(body)
    assert parsed.reference == "  第一步：\n  第二步\n"
    assert parsed.scheme == "每步 5 分"
    assert only_problem(with_questions(question(scheme="5")))[1:] == (
        "scheme",
        "must be text, not an integer",
    )

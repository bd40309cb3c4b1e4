"""Session definitions: the answer sheets' hints (DESIGN §12) — a question's writing
``lines`` and ``options``, the session's ``[paper] exam_number_digits`` — read, checked and
followed by the layout."""

from __future__ import annotations

import pytest

from marking.domain.definition import parse_session_definition
from marking.paper.layout import sheet_layout
from tests.unit.definition_helpers import (
    SESSION,
    WHERE,
    objective,
    only_problem,
    parse_question,
    question,
    with_questions,
)

CHOICE_WHERE = "components[1].questions[1] (question 1)"


def test_without_hints_the_layout_chooses() -> None:
    definition = parse_session_definition(with_questions(question()))
    assert definition.exam_number_digits == 10
    assert definition.components[0].questions[0].lines is None
    assert definition.components[0].questions[0].options is None


def test_hints_are_read_and_the_layout_follows_them() -> None:
    text = with_questions(
        objective("single_choice", '"C"', options="6"),
        question(lines="3"),
    ).replace("\n[[components]]", "\n[paper]\nexam_number_digits = 12\n\n[[components]]")
    definition = parse_session_definition(text)
    assert definition.exam_number_digits == 12
    choice, written = definition.components[0].questions
    assert (choice.options, written.lines) == (6, 3)
    layout = sheet_layout(
        definition.components[0],
        exam_number_digits=definition.exam_number_digits,
        lines={written.number: 3},
        options={choice.number: 6},
    )
    header = layout.pages[0].header
    assert header is not None and len(header.exam_number_cells) == 12
    assert [b.option for b in layout.pages[0].bubbles] == list("ABCDEF")
    assert [a.lines for p in layout.pages for a in p.answers] == [3]


def test_a_multiple_choice_question_takes_options_too() -> None:
    parsed = parse_question(objective("multiple_choice", '"ACE"', options="5"))
    assert parsed.options == 5


@pytest.mark.parametrize(
    ("body", "where", "field", "reason"),
    [
        (question(lines="0"), WHERE, "lines", "must be 1 to 100 writing lines"),
        (question(lines="101"), WHERE, "lines", "must be 1 to 100 writing lines"),
        (question(lines='"5"'), WHERE, "lines", "must be a whole number, not text"),
        (question(lines="2.5"), WHERE, "lines", "must be a whole number, not a number"),
        (
            objective("single_choice", '"B"', lines="3"),
            CHOICE_WHERE,
            "lines",
            "only a question examiners mark has writing lines",
        ),
        (
            question(options="4"),
            WHERE,
            "options",
            "only a choice question has options (A, B, C...)",
        ),
        (
            objective("true_false", '"T"', options="2"),
            CHOICE_WHERE,
            "options",
            "only a choice question has options (A, B, C...)",
        ),
        (
            objective("single_choice", '"E"', options="4"),
            CHOICE_WHERE,
            "options",
            "must be 5 to 26 options (its key uses E)",
        ),
        (
            objective("multiple_choice", '"AF"', options="27"),
            CHOICE_WHERE,
            "options",
            "must be 6 to 26 options (its key uses F)",
        ),
        (
            objective("single_choice", '"A"', options="1"),
            CHOICE_WHERE,
            "options",
            "must be 2 to 26 options (its key uses A)",
        ),
    ],
)
def test_hints_that_cannot_be_followed_name_the_question_and_the_field(
    body: str, where: str, field: str, reason: str
) -> None:
    assert only_problem(with_questions(body)) == (where, field, reason)


@pytest.mark.parametrize(
    ("paper", "field", "reason"),
    [
        ("exam_number_digits = 0", "exam_number_digits", "must be 1 to 14"),
        ("exam_number_digits = 15", "exam_number_digits", "must be 1 to 14"),
        ('exam_number_digits = "10"', "exam_number_digits", "must be a whole number, not text"),
        ("digits = 10", "digits", "unknown key; allowed: exam_number_digits"),
    ],
)
def test_the_paper_table_is_checked(paper: str, field: str, reason: str) -> None:
    text = with_questions(question()).replace(SESSION, f"{SESSION}\n[paper]\n{paper}\n")
    where, column, message = only_problem(text)
    assert (where, column) == ("paper", field) and message.startswith(reason)


def test_paper_must_be_a_table() -> None:
    text = with_questions(question()).replace(SESSION, 'paper = "A4"\n' + SESSION)
    assert only_problem(text) == ("(top level)", "paper", "must be a table ([paper]), not text")

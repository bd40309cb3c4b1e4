"""Session definitions: the [session] table and the [[components]]."""

from __future__ import annotations

import datetime as dt

import pytest

from marking.domain.definition import parse_session_definition
from tests.unit.definition_helpers import (
    SESSION,
    Problem,
    only_problem,
    problems,
    question,
    with_questions,
)

# --- [session] --------------------------------------------------------------------------


def test_missing_session_table_and_components() -> None:
    assert problems("") == [
        ("session", None, "missing the [session] table"),
        ("(top level)", "components", "missing: declare at least one [[components]]"),
    ]


def test_every_session_field_is_required() -> None:
    found = problems(with_questions(question()).replace(SESSION, "[session]\n"))
    assert found == [
        ("session", field, "missing (required)")
        for field in ("code", "occupation", "occupation_code", "level", "date", "station")
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('code = ""', ("session", "code", "must not be empty")),
        (
            'code = "2026 GD"',
            ("session", "code", "may hold only letters, digits, '.', '_' and '-'"),
        ),
        ("code = 2026", ("session", "code", "must be text, not an integer")),
        ('occupation = "  "', ("session", "occupation", "must not be empty")),
        ('occupation_code = "6:31"', ("session", "occupation_code", "")),
        ("level = 0", ("session", "level", "must be 1 (senior technician) to 5 (entry)")),
        ("level = 6", ("session", "level", "must be 1 (senior technician) to 5 (entry)")),
        ("level = 3.0", ("session", "level", "must be a whole number, not a number")),
        ("level = true", ("session", "level", "must be a whole number, not a boolean")),
        ('level = "3"', ("session", "level", "must be a whole number, not text")),
        ('date = "2026-02-30"', ("session", "date", "must be a date such as 2026-12-05")),
        ('date = "20261205"', ("session", "date", "must be a date such as 2026-12-05")),
        ('date = "5 Dec 2026"', ("session", "date", "must be a date such as 2026-12-05")),
        ("date = 2026", ("session", "date", "must be a date such as 2026-12-05")),
        (
            "date = 2026-12-05T09:00:00",
            ("session", "date", "must be a date without a time, such as 2026-12-05"),
        ),
        ("station = []", ("session", "station", "must be text, not an array")),
    ],
)
def test_session_field_rules(line: str, expected: Problem) -> None:
    field = line.split(" = ")[0]
    text = with_questions(question())
    lines = [line if row.startswith(f"{field} = ") else row for row in text.splitlines()]
    row, column, reason = only_problem("\n".join(lines))
    assert (row, column) == expected[:2]
    assert reason.startswith(expected[2])


def test_a_toml_date_is_accepted() -> None:
    text = with_questions(question()).replace('date = "2026-12-05"', "date = 2026-12-05")
    assert parse_session_definition(text).date == dt.date(2026, 12, 5)


def test_surrounding_spaces_are_trimmed() -> None:
    text = with_questions(question()).replace('station = "GD-0107"', 'station = " GD-0107 "')
    assert parse_session_definition(text).station == "GD-0107"


def test_unknown_keys_are_refused_everywhere() -> None:
    text = SESSION.replace("[session]\n", "[session]\nstaton = 'typo'\n")
    text += '\n[[groups]]\nkey = "short"\nname = "简答"\nmarks = 3\n'
    text += '\n[[components]]\nkey = "theory"\ntitle = "理论"\n'
    text += "\n[[components.questions]]\n" + question(group='"short"', answr='"B"') + "\n"
    text = "version = 1\n" + text
    found = [(row, column) for row, column, _ in problems(text)]
    assert found == [
        ("(top level)", "version"),
        ("session", "staton"),
        ("groups[1] (short)", "marks"),
        ("components[1]", "title"),
        ("components[1].questions[1] (question 41)", "answr"),
    ]
    reason = problems(text)[1][2]
    allowed = "code, occupation, occupation_code, level, date, station, time_zone"
    assert reason == f"unknown key; allowed: {allowed}"


def test_session_must_be_a_table() -> None:
    text = 'session = "x"\n' + with_questions(question()).replace(SESSION, "")
    assert problems(text) == [("(top level)", "session", "must be a table ([session]), not text")]


# --- [[components]] ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("interview", "the interview is not declared: it is added for levels 1-2"),
        ("theroy", "unknown component 'theroy'; expected theory or skills"),
    ],
)
def test_component_key_rules(key: str, reason: str) -> None:
    assert only_problem(with_questions(question(), component=key)) == (
        "components[1]",
        "key",
        reason,
    )


def test_component_key_is_required() -> None:
    text = with_questions(question()).replace('key = "theory"\n', "")
    assert only_problem(text) == ("components[1]", "key", "missing (required)")


def test_duplicate_component() -> None:
    text = with_questions(question()) + '\n[[components]]\nkey = "theory"\n'
    text += "[[components.questions]]\n" + question(number='"42"', bank_item='"DG3-1042"')
    assert only_problem(text) == (
        "components[2]",
        "key",
        "component theory is declared twice (also components[1])",
    )


def test_component_names_default_and_can_be_given() -> None:
    text = with_questions(question()) + '\n[[components]]\nkey = "skills"\nname = "实际操作"\n'
    text += "[[components.questions]]\n" + question(bank_item='"DG3-S01"', type='"practical"')
    session = parse_session_definition(text)
    assert [(c.key, c.name) for c in session.components] == [
        ("theory", "理论知识"),
        ("skills", "实际操作"),
    ]
    assert session.components[1].questions[0].number == "41"  # numbers are per component


def test_component_without_questions() -> None:
    text = SESSION + '\n[[components]]\nkey = "theory"\n'
    assert only_problem(text) == (
        "components[1]",
        "questions",
        "missing: declare at least one [[components.questions]]",
    )
    empty = SESSION + '\n[[components]]\nkey = "theory"\nquestions = []\n'
    assert only_problem(empty) == (
        "components[1]",
        "questions",
        "a component needs at least one question",
    )


def test_components_must_be_an_array_of_tables() -> None:
    text = SESSION + '\n[components]\nkey = "theory"\n'
    assert only_problem(text) == (
        "(top level)",
        "components",
        "must be an array of tables, written [[components]]",
    )
    assert only_problem("components = []\n" + SESSION) == (
        "(top level)",
        "components",
        "declare at least one [[components]]",
    )

"""Session definitions: the §11 example, the data model, reading the file, all problems at once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from marking.domain.definition import (
    ComponentDef,
    GroupDef,
    QuestionDef,
    QuestionType,
    SessionDef,
    load_session_definition,
    parse_session_definition,
    session_time_zone,
)
from marking.errors import InputError, InputErrors
from tests.unit.definition_helpers import (
    DESIGN_EXAMPLE,
    SESSION,
    WHERE,
    objective,
    only_problem,
    parse_question,
    problems,
    question,
    with_questions,
)

# --- the example and the data model -----------------------------------------------------


def test_the_design_example_parses() -> None:
    assert parse_session_definition(DESIGN_EXAMPLE) == SessionDef(
        code="2026-GD-0412",
        occupation="电工",
        occupation_code="6-31-01-03",
        level=3,
        date=dt.date(2026, 12, 5),
        station="GD-0107",
        groups=(GroupDef("short", "简答题", 2),),
        components=(
            ComponentDef(
                "theory",
                "理论知识",
                (
                    QuestionDef(
                        number="1",
                        bank_item="DG3-0001",
                        type=QuestionType.SINGLE_CHOICE,
                        max=Decimal(1),
                        step=Decimal(1),
                        tolerance=None,
                        group=None,
                        reference="",
                        scheme="",
                        answer=("B",),
                    ),
                    QuestionDef(
                        number="41",
                        bank_item="DG3-1041",
                        type=QuestionType.SHORT_ANSWER,
                        max=Decimal(10),
                        step=Decimal("0.5"),
                        tolerance=Decimal(2),
                        group="short",
                        reference="...",
                        scheme="...",
                        answer=None,
                    ),
                ),
            ),
        ),
    )


def test_derived_properties() -> None:
    session = parse_session_definition(DESIGN_EXAMPLE)
    theory = session.components[0]
    assert theory.max_total == Decimal(11)
    assert [q.is_objective for q in theory.questions] == [True, False]
    assert not session.has_interview
    technician = parse_session_definition(DESIGN_EXAMPLE.replace("level = 3", "level = 2"))
    assert technician.has_interview


def test_question_types() -> None:
    assert [t.value for t in QuestionType] == [
        "single_choice",
        "multiple_choice",
        "true_false",
        "fill_blank",
        "short_answer",
        "calculation",
        "essay",
        "case_analysis",
        "practical",
    ]
    assert [t for t in QuestionType if t.is_objective] == [
        QuestionType.SINGLE_CHOICE,
        QuestionType.MULTIPLE_CHOICE,
        QuestionType.TRUE_FALSE,
        QuestionType.FILL_BLANK,
    ]
    assert QuestionType.CASE_ANALYSIS.label == "案例分析题"


def test_the_dataclasses_are_frozen() -> None:
    session = parse_session_definition(DESIGN_EXAMPLE)
    with pytest.raises(AttributeError):
        session.code = "other"  # type: ignore[misc]


def test_numbers_are_exact_decimals_without_exponents() -> None:
    parsed = parse_question(question(max="10.0", step="0.50", tolerance="1.250"))
    assert (str(parsed.max), str(parsed.step), str(parsed.tolerance)) == ("10", "0.5", "1.25")
    big = parse_question(question(max="1e2", tolerance="-0.0"))
    assert (str(big.max), str(big.tolerance)) == ("100", "0")
    thousandths = parse_question(question(max="0.003", step="0.001", tolerance="0.001"))
    assert thousandths.max == Decimal("0.003")


# --- reading the file -------------------------------------------------------------------


def test_load_from_a_file_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "session.toml"
    path.write_bytes(DESIGN_EXAMPLE.encode("utf-8-sig"))
    assert load_session_definition(path).occupation == "电工"


def test_load_refuses_text_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gd.toml"
    path.write_bytes(DESIGN_EXAMPLE.encode("gb18030"))
    with pytest.raises(InputError) as caught:
        load_session_definition(path)
    error = caught.value
    assert (error.file, error.row) == ("gd.toml", "line 4")
    assert "not UTF-8" in error.reason


def test_load_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_session_definition(tmp_path / "session.toml")
    assert caught.value.reason.startswith("cannot read the file")


def test_load_names_the_file_in_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "2026-gd.toml"
    path.write_text(DESIGN_EXAMPLE.replace("level = 3", "level = 9"), encoding="utf-8")
    with pytest.raises(InputErrors) as caught:
        load_session_definition(path)
    assert str(caught.value.errors[0]) == (
        "2026-gd.toml, session, column level: must be 1 (senior technician) to 5 (entry)"
    )


def test_toml_syntax_error_names_line_and_column() -> None:
    with pytest.raises(InputError) as caught:
        parse_session_definition(SESSION + 'station = "x\n', file="s.toml")
    error = caught.value
    assert (error.file, error.row, error.column) == ("s.toml", "line 9", "13")
    assert error.reason.startswith("not valid TOML")
    assert str(error).startswith("s.toml, line 9, column 13: not valid TOML")


def test_toml_error_at_the_end_of_the_document() -> None:
    with pytest.raises(InputError) as caught:
        parse_session_definition("a = ")
    assert caught.value.row is None
    assert "not valid TOML" in caught.value.reason


def test_a_repeated_toml_key_is_a_syntax_error() -> None:
    with pytest.raises(InputError, match="not valid TOML"):
        parse_session_definition(SESSION + 'code = "again"\n')


# --- collecting problems ----------------------------------------------------------------


def test_every_problem_is_reported_at_once() -> None:
    text = with_questions(
        question(bank_item=""),
        question(number='"42"', bank_item='"B42"', step="0.3"),
        objective("multiple_choice", '"AXE1"', number='"3"', bank_item='"B3"'),
    ).replace("level = 3", "level = 9")
    assert [(row, column) for row, column, _ in problems(text)] == [
        ("session", "level"),
        ("components[1].questions[1] (question 41)", "bank_item"),
        ("components[1].questions[2] (question 42)", "step"),
        ("components[1].questions[3] (question 3)", "answer"),
    ]


def test_the_list_of_problems_is_capped() -> None:
    bodies = [question(number=f'"{n}"', bank_item="") for n in range(1, 251)]
    with pytest.raises(InputErrors) as caught:
        parse_session_definition(with_questions(*bodies))
    assert len(caught.value.errors) == 200
    assert caught.value.truncated
    assert str(caught.value).endswith("... (further problems not listed)")


@pytest.mark.parametrize(
    ("fields", "column", "reason"),
    [
        ({"max": "1e-1000030"}, "max", "must be a multiple of 0.001"),
        ({"step": "1e-1000030"}, "step", "must be a multiple of 0.001"),
        ({"tolerance": "1e-1000030"}, "tolerance", "must be a multiple of 0.001"),
        ({"tolerance": "1e999999999"}, "tolerance", "must be at most 1000"),
        ({"max": "10.0000"}, "max", "must be a multiple of 0.001 (marks are kept in thousandths)"),
    ],
)
def test_mark_like_numbers_pass_the_same_gate_as_marks(
    fields: dict[str, str], column: str, reason: str
) -> None:
    """max, step and tolerance go through rules.parse_mark: an exponent cannot smuggle in
    a number no mark could be (issue 9: `1e-1000030` became a step of 0 and broke verify)."""
    row, found_column, found_reason = only_problem(with_questions(question(**fields)))
    assert (row, found_column) == (WHERE, column)
    assert found_reason.startswith(reason) and len(found_reason) < 120


# --- the session's time zone (issue 14, R1: times shown in it) ------------------------------


def test_a_session_is_in_shanghai_unless_its_definition_says_otherwise() -> None:
    plain = with_questions(question())
    assert parse_session_definition(plain).time_zone == "Asia/Shanghai"
    assert session_time_zone(plain) == ZoneInfo("Asia/Shanghai")
    urumqi = plain.replace('station = "GD-0107"', 'station = "GD-0107"\ntime_zone = "Asia/Urumqi"')
    assert parse_session_definition(urumqi).time_zone == "Asia/Urumqi"
    assert session_time_zone(urumqi) == ZoneInfo("Asia/Urumqi")


def test_an_unknown_time_zone_is_refused_by_name() -> None:
    text = with_questions(question()).replace(
        'station = "GD-0107"', 'station = "GD-0107"\ntime_zone = "Asia/Beijing"'
    )
    assert only_problem(text) == (
        "session",
        "time_zone",
        "unknown time zone 'Asia/Beijing' (e.g. Asia/Shanghai)",
    )

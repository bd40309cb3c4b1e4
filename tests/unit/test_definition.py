"""Session definitions: the §11 example, every validation rule, and exact decimals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marking.domain.definition import (
    ComponentDef,
    GroupDef,
    QuestionDef,
    QuestionType,
    SessionDef,
    load_session_definition,
    parse_session_definition,
)
from marking.errors import InputError, InputErrors

SESSION = """
[session]
code = "2026-GD-0412"
occupation = "电工"
occupation_code = "6-31-01-03"
level = 3
date = "2026-12-05"
station = "GD-0107"
"""

DESIGN_EXAMPLE = (
    SESSION
    + """
[[groups]]
key = "short"
name = "简答题"
marks_required = 2

[[components]]
key = "theory"
name = "理论知识"

[[components.questions]]
number = "1"
bank_item = "DG3-0001"
type = "single_choice"
max = 1
answer = "B"

[[components.questions]]
number = "41"
bank_item = "DG3-1041"
type = "short_answer"
max = 10
step = 0.5
tolerance = 2
group = "short"
reference = "..."
scheme = "..."
"""
)

Problem = tuple[str | int | None, str | None, str]


def with_questions(*questions: str, groups: str = "", component: str = "theory") -> str:
    """A valid session around the given [[components.questions]] bodies."""
    body = "".join(f"\n[[components.questions]]\n{q.strip()}\n" for q in questions)
    return f'{SESSION}\n{groups}\n[[components]]\nkey = "{component}"\n{body}'


def question(**fields: str) -> str:
    """A valid short-answer question body, with fields replaced (value "" drops one)."""
    values = {
        "number": '"41"',
        "bank_item": '"DG3-1041"',
        "type": '"short_answer"',
        "max": "10",
        "tolerance": "2",
    }
    values.update(fields)
    return "\n".join(f"{key} = {value}" for key, value in values.items() if value)


def objective(kind: str, answer: str, **fields: str) -> str:
    values = {
        "number": '"1"',
        "bank_item": '"DG3-0001"',
        "type": f'"{kind}"',
        "max": "1",
        "answer": answer,
    }
    values.update(fields)
    return "\n".join(f"{key} = {value}" for key, value in values.items() if value)


def problems(text: str) -> list[Problem]:
    with pytest.raises(InputErrors) as caught:
        parse_session_definition(text)
    assert all(error.file == "session.toml" for error in caught.value.errors)
    return [(error.row, error.column, error.reason) for error in caught.value.errors]


def only_problem(text: str) -> Problem:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


def parse_question(body: str, **kwargs: str) -> QuestionDef:
    return parse_session_definition(with_questions(body, **kwargs)).components[0].questions[0]


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
    assert reason == "unknown key; allowed: code, occupation, occupation_code, level, date, station"


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

WHERE = "components[1].questions[1] (question 41)"


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


# --- questions: groups ------------------------------------------------------------------

GROUPS = '[[groups]]\nkey = "short"\nname = "简答题"\nmarks_required = 3\n'


def test_questions_without_a_group_get_their_types_group() -> None:
    text = with_questions(
        question(),
        question(number='"42"', bank_item='"B42"', type='"calculation"'),
        question(number='"43"', bank_item='"B43"', type='"essay"'),
        question(number='"44"', bank_item='"B44"', type='"case_analysis"'),
        question(number='"45"', bank_item='"B45"', type='"practical"'),
        question(number='"46"', bank_item='"B46"', type='"calculation"'),
        question(number='"47"', bank_item='"B47"', group='"short"'),
        groups=GROUPS,
    )
    session = parse_session_definition(text)
    assert session.groups == (
        GroupDef("short", "简答题", 3),
        GroupDef("short_answer", "简答题", 2),
        GroupDef("calculation", "计算题", 2),
        GroupDef("essay", "论述题", 2),
        GroupDef("case_analysis", "案例分析题", 2),
        GroupDef("practical", "实操题", 2),
    )
    assert [q.group for q in session.components[0].questions] == [
        "short_answer",
        "calculation",
        "essay",
        "case_analysis",
        "practical",
        "calculation",
        "short",
    ]


def test_a_declared_group_named_after_a_type_is_that_types_default() -> None:
    groups = '[[groups]]\nkey = "essay"\nmarks_required = 3\n'
    session = parse_session_definition(with_questions(question(type='"essay"'), groups=groups))
    assert session.groups == (GroupDef("essay", "论述题", 3),)
    assert session.components[0].questions[0].group == "essay"


def test_unknown_group() -> None:
    row, column, reason = only_problem(with_questions(question(group='"shrot"'), groups=""))
    assert (row, column) == (WHERE, "group")
    assert reason.startswith("unknown group 'shrot': declare it under [[groups]]")


def test_naming_a_types_group_still_needs_a_declaration() -> None:
    text = with_questions(question(group='"short_answer"'))
    assert only_problem(text)[1:3] == (
        "group",
        "unknown group 'short_answer': declare it under [[groups]], or leave group out "
        "to use the default group of the question's type",
    )


def test_declared_group_without_questions() -> None:
    assert only_problem(with_questions(question(), groups=GROUPS)) == (
        "groups[1] (short)",
        None,
        "group has no questions",
    )


@pytest.mark.parametrize(
    ("group", "column", "reason"),
    [
        ('key = "short"\nname = "简答"\nmarks_required = 1', "marks_required", "must be at "),
        ('key = "short"\nname = "简答"\nmarks_required = true', "marks_required", "must be a wh"),
        ('key = "short"\nname = "简答"\nmarks_required = 2.5', "marks_required", "must be a wh"),
        ('key = "short"', "name", "missing (required)"),
        ('key = "short"\nname = ""', "name", "must not be empty"),
        ('key = "short group"\nname = "简答"', "key", "may hold only letters"),
    ],
)
def test_group_rules(group: str, column: str, reason: str) -> None:
    text = with_questions(question(group='"short"'), groups=f"[[groups]]\n{group}\n")
    row, found_column, found_reason = problems(text)[0]
    assert str(row).startswith("groups[1]")
    assert found_column == column
    assert found_reason.startswith(reason)


def test_group_marks_required_defaults_to_two() -> None:
    groups = '[[groups]]\nkey = "short"\nname = "简答题"\n'
    session = parse_session_definition(with_questions(question(group='"short"'), groups=groups))
    assert session.groups == (GroupDef("short", "简答题", 2),)


def test_group_key_is_required_and_unique() -> None:
    groups = GROUPS + GROUPS + '[[groups]]\nname = "x"\n'
    found = problems(with_questions(question(group='"short"'), groups=groups))
    assert found == [
        ("groups[2] (short)", "key", "group short is declared twice (also groups[1] (short))"),
        ("groups[3]", "key", "missing (required)"),
    ]


def test_groups_must_be_an_array_of_tables() -> None:
    text = with_questions(question(), groups='[groups]\nkey = "short"\n')
    assert only_problem(text) == (
        "(top level)",
        "groups",
        "must be an array of tables, written [[groups]]",
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

"""Session definitions: marking groups, declared and implicit."""

from __future__ import annotations

import pytest

from marking.domain.definition import GroupDef, parse_session_definition
from tests.unit.definition_helpers import WHERE, only_problem, problems, question, with_questions

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

"""Shared by the session-definition tests: valid definitions to vary, and their problems."""

from __future__ import annotations

import pytest

from marking.domain.definition import QuestionDef, parse_session_definition
from marking.errors import InputErrors

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


WHERE = "components[1].questions[1] (question 41)"

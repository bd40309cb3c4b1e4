"""Session definitions: a group's quality control (DESIGN §13): qualification, seed_rate,
remark_rate."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marking.domain.definition import QualificationDef, parse_session_definition
from tests.unit.definition_helpers import only_problem, problems, question, with_questions


def _group(extra: str) -> str:
    return f'[[groups]]\nkey = "short"\nname = "简答题"\n{extra}\n'


def _parse_group(extra: str):  # type: ignore[no-untyped-def]
    text = with_questions(question(group='"short"'), groups=_group(extra))
    return parse_session_definition(text).groups[0]


def test_defaults_are_a_seed_in_twenty_and_one_percent_remarked_without_a_set() -> None:
    group = _parse_group("")
    assert group.qualification is None
    assert group.seed_rate == Decimal("0.05")
    assert group.remark_rate == Decimal("0.01")


def test_a_qualification_set_and_rates_as_written() -> None:
    group = _parse_group(
        "qualification = { size = 5, within = 0.8 }\nseed_rate = 0.1\nremark_rate = 0.02"
    )
    assert group.qualification == QualificationDef(5, Decimal("0.8"))
    assert (group.seed_rate, group.remark_rate) == (Decimal("0.1"), Decimal("0.02"))


def test_zero_turns_seeds_and_remarking_off() -> None:
    group = _parse_group("seed_rate = 0\nremark_rate = 0")
    assert (group.seed_rate, group.remark_rate) == (0, 0)


@pytest.mark.parametrize(
    ("extra", "column", "start"),
    [
        ('qualification = "5 of 0.8"', "qualification", "must be a table"),
        ("qualification = { size = 0, within = 0.8 }", "size", "must be 1 to 50"),
        ("qualification = { size = 5, within = 1.5 }", "within", "must be 0.001 to 1"),
        ("qualification = { size = 5 }", "within", "missing (required)"),
        ("qualification = { size = 5, within = 0.8, pass = 1 }", "pass", "unknown key"),
        ("seed_rate = 0.9", "seed_rate", "must be 0 to 0.5"),
        ("seed_rate = -0.1", "seed_rate", "must not be negative"),
        ('seed_rate = "5%"', "seed_rate", "must be a number"),
        ("remark_rate = 0.005", "remark_rate", "must be at least 0.01"),
    ],
)
def test_wrong_settings_are_named_with_their_field(extra: str, column: str, start: str) -> None:
    text = with_questions(question(group='"short"'), groups=_group(extra))
    found = [p for p in problems(text) if p[1] == column]
    assert found, problems(text)
    assert found[0][2].startswith(start), found


def test_a_wrong_rate_is_the_only_problem_and_names_its_group() -> None:
    text = with_questions(question(group='"short"'), groups=_group("seed_rate = 2"))
    row, column, reason = only_problem(text)
    assert (column, reason) == ("seed_rate", "must be 0 to 0.5") and "short" in row

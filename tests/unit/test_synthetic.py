"""Synthetic rosters: valid Chinese ID numbers, Chinese names, reproducible from a seed."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from marking.demo import synthetic
from marking.domain.definition import parse_session_definition


def gb11643_check(first17: str) -> str:
    """The check character computed from the standard's own definition (ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * pow(2, 17 - i, 11) for i, digit in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


@pytest.mark.parametrize(
    "published",
    ["11010519491231002X", "440524188001010014"],
)
def test_the_check_character_of_published_example_numbers(published: str) -> None:
    assert synthetic.id_check_char(published[:17]) == published[17]
    assert gb11643_check(published[:17]) == published[17]


def test_every_id_number_is_valid_and_unique() -> None:
    people = synthetic.roster(500, seed=2026)

    numbers = [p.id_number for p in people]
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert re.fullmatch(r"\d{17}[\dX]", number), number
        assert number[17] == gb11643_check(number[:17]), number
        assert number[:6] in synthetic.REGIONS
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        assert dt.date(1975, 1, 1) <= born < dt.date(2005, 1, 1)
    # With 500 numbers the check character X (1 in 11) must turn up.
    assert any(n.endswith("X") for n in numbers)


def test_the_roster_is_determined_by_its_seed() -> None:
    assert synthetic.roster(50, seed=9) == synthetic.roster(50, seed=9)
    assert synthetic.roster(50, seed=9) != synthetic.roster(50, seed=10)
    assert synthetic.roster(20, seed=9) == synthetic.roster(50, seed=9)[:20]


def test_the_roster_is_sorted_by_exam_number() -> None:
    exam_numbers = [p.exam_no for p in synthetic.roster(120, seed=4, prefix="2612")]

    assert exam_numbers == sorted(exam_numbers)
    assert len(set(exam_numbers)) == len(exam_numbers)
    assert all(re.fullmatch(r"2612\d{8}", n) for n in exam_numbers)


def test_names_are_chinese() -> None:
    people = synthetic.roster(300, seed=7)

    for person in people:
        assert 2 <= len(person.name) <= 4, person.name
        assert all("\u4e00" <= ch <= "\u9fff" for ch in person.name), person.name
    assert len({p.name for p in people}) > 200  # not a handful of names repeated
    assert {p.institution for p in people} <= set(synthetic.INSTITUTIONS)


def test_the_session_definition_is_a_valid_one() -> None:
    definition = parse_session_definition(
        synthetic.session_toml("SYN-01", questions_per_component=10)
    )

    assert definition.code == "SYN-01"
    assert [c.key for c in definition.components] == ["theory", "skills"]
    for component in definition.components:
        assert len(component.questions) == 10
        assert sum(q.is_objective for q in component.questions) == 5

"""One function makes every spreadsheet cell safe (issue 9, item 9; OWASP CSV injection)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from reports.cells import csv_row, safe_cell, write_csv


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.example","点击")',
        "=1+1",
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        "\n=1+1",
        "＝1+1",
        "-",
        "+",
        "-1e5",
    ],
)
def test_text_that_could_start_a_formula_is_quoted(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert csv_row([text]) == ["'" + text]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (Decimal("-0.5"), Decimal("-0.5")),
        (-3, -3),
        (0.25, 0.25),
        ("-0.5", "-0.5"),  # text that can only be read as this number
        ("+7", "+7"),
        ("张三", "张三"),
        ("261200000001", "261200000001"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
    ],
)
def test_numbers_and_plain_text_stay_as_they_are(value: object, cell: object) -> None:
    assert safe_cell(value) == cell and type(safe_cell(value)) is type(cell)


def test_csv_rows_write_numbers_as_plain_text() -> None:
    out = io.StringIO()
    write_csv(out, ["name", "severity"], [["=1+1", Decimal("-0.500")], ["李四", 3]])
    assert out.getvalue().splitlines() == ["name,severity", "'=1+1,-0.500", "李四,3"]

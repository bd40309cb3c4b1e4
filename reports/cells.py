"""Spreadsheet cells that cannot turn into formulas: every CSV and XLSX cell written by
blindmark (the §11 exports, the register, the statistics) goes through ``safe_cell``.

A candidate named ``=HYPERLINK("http://…","点击")`` would otherwise be a live formula
when the office opens the file in Excel or WPS. Following OWASP's guidance on CSV
injection, text that starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or
a line feed (or their full-width forms, which Chinese spreadsheets also read as formula
signs) is prefixed with a single quote, so it shows as the text it is. Numbers stay
numbers: a number value stays a number cell, and text that is nothing but a plain
decimal number (``-0.5``) is left alone, as a spreadsheet can only read it as that number.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import IO, Any, TypeAlias

__all__ = ["FORMULA_STARTS", "Cell", "csv_row", "safe_cell", "write_csv"]

Cell: TypeAlias = str | int | float | Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def safe_cell(value: object) -> Cell:
    """The value as a cell that no spreadsheet evaluates: numbers as they are, text
    quoted when it could start a formula, None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _text(cell: Cell) -> str:
    return format(cell, "f") if isinstance(cell, Decimal) else str(cell)


def csv_row(row: Iterable[object]) -> list[str]:
    """A row for ``csv.writer``: each value through ``safe_cell``, numbers as plain text."""
    return [_text(safe_cell(value)) for value in row]


def write_csv(
    fh: IO[str], header: Iterable[object], rows: Iterable[Iterable[object]], **fmt: Any
) -> None:
    """Header and rows to ``fh`` as CSV (``fmt``: ``csv.writer``'s options), every cell safe."""
    writer = csv.writer(fh, **fmt)
    writer.writerow(csv_row(header))
    writer.writerows(csv_row(row) for row in rows)

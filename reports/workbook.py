"""Tables as an Excel workbook the office can sum, sort and chart (issue 14, item 9).

Numbers are number cells with a format that says what they are (a mark to its question's
step, a share as a percentage, a count as a whole number); dates and times are date cells
in the session's time zone (the caller hands them naive, as wall-clock time: Excel has no
zones); the header row is frozen and bold; each column is as wide as its longest text, a
Chinese character counting twice. Text goes through ``reports.cells.safe_cell``, so no
name or label can become a formula."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from reports.cells import Cell, safe_cell

__all__ = [
    "COUNT",
    "DATE",
    "DATE_TIME",
    "MEAN",
    "MEASURE",
    "SCORE",
    "SHARE",
    "SIGNED",
    "Table",
    "Value",
    "mark_format",
    "to_xlsx",
]

#: A value of a table: a cell, or a date or a moment (naive, in the session's time zone).
Value = Cell | dt.datetime | dt.date

COUNT = "0"  # candidates, responses, marks
SHARE = "0.0%"  # a fraction (0.657) shown as 65.7%
MEASURE = "0.000"  # a coefficient: facility, discrimination, kappa
SCORE = "0.0"  # a component or interview score (DESIGN §11: one decimal)
MEAN = "0.00"  # a mean or a spread of marks
SIGNED = "+0.00;-0.00;0.00"  # severity: above or below the final, in marks
DATE = "yyyy-mm-dd"
DATE_TIME = "yyyy-mm-dd hh:mm"

_MIN_WIDTH = 6
_MAX_WIDTH = 60
_BOLD = Font(bold=True)


#: A column's number format: one for every row, one per row (a tuple), or None (text).
Format = str | tuple[str, ...] | None


@dataclass(frozen=True)
class Table:
    """A titled table; ``formats`` gives each column's number format (missing: None)."""

    title: str
    header: tuple[str, ...]
    rows: Sequence[tuple[Value, ...]]
    formats: tuple[Format, ...] = ()


def mark_format(step_milli: int) -> str:
    """The number format of marks on a question's step: 1 → "0", 0.5 → "0.0", 0.25 → "0.00"."""
    exponent = (Decimal(step_milli) / 1000).normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return "0." + "0" * places if places else "0"


def display_width(text: str) -> int:
    """Columns ``text`` takes on screen: a wide (CJK) or full-width character counts two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _shown(value: Value, fmt: str | None) -> str:
    """About what Excel shows for ``value``: enough to size its column."""
    if isinstance(value, dt.datetime):
        return "2026-12-05 08:00"
    if isinstance(value, dt.date):
        return "2026-12-05"
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        if fmt == SHARE:
            return f"{float(value):.1%}"
        places = len(fmt.split(";")[0].partition(".")[2]) if fmt else 0
        return f"{float(value):+,.{places}f}"
    return str(value)


def _widths(table: Table) -> list[float]:
    widths = [display_width(h) for h in table.header]
    for r, row in enumerate(table.rows):
        for i, value in enumerate(row):
            shown = display_width(_shown(value, _format(table, i, r)))
            if i >= len(widths):
                widths.append(shown)
            elif shown > widths[i]:
                widths[i] = shown
    return [min(max(w + 2, _MIN_WIDTH), _MAX_WIDTH) for w in widths]


def _format(table: Table, column: int, row: int) -> str | None:
    fmt = table.formats[column] if column < len(table.formats) else None
    return fmt[row] if isinstance(fmt, tuple) else fmt


def _cell(sheet: WriteOnlyWorksheet, value: Value, fmt: str | None) -> WriteOnlyCell | Cell:
    if isinstance(value, dt.datetime | dt.date):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            raise ValueError("a spreadsheet time must be naive, in the session's time zone")
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_TIME if isinstance(value, dt.datetime) else DATE
        return cell
    safe = safe_cell(value)
    if isinstance(safe, Decimal):
        # openpyxl writes a number as "%.16g" (73.6 → 73.59999999999999, the same double,
        # but not the text published): a decimal goes in as its own text, typed a number.
        cell = WriteOnlyCell(sheet, value=format(safe, "f"))
        cell.data_type = "n"
    elif fmt is None or not isinstance(safe, int | float):
        return safe
    else:
        cell = WriteOnlyCell(sheet, value=safe)
    if fmt is not None:
        cell.number_format = fmt
    return cell


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """One sheet per table, named by its title, its header row frozen."""
    workbook = Workbook(write_only=True)
    for table in tables:
        sheet = workbook.create_sheet(title=table.title[:31])
        sheet.freeze_panes = "A2"
        for i, width in enumerate(_widths(table), start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        header = []
        for text in table.header:
            cell = WriteOnlyCell(sheet, value=safe_cell(text))
            cell.font = _BOLD
            header.append(cell)
        sheet.append(header)
        for r, row in enumerate(table.rows):
            sheet.append([_cell(sheet, v, _format(table, i, r)) for i, v in enumerate(row)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

"""Read the offices' tables (CSV in UTF-8 or GB18030, or an .xlsx first sheet) row by row.

Rows stream: nothing but the current row (and a 1 MiB buffer) is held in memory, and
each row costs a few C-level calls beyond the ``csv`` module's own work.

Measured on a generated 1,000,000-row CSV (``exam_no,component,question,response``,
read with an absent optional ``image`` column; 32 MB), Python 3.11, best of three on
the shared 2-core development machine: encoding scan 0.1 s (UTF-8) / 0.2 s (GB18030);
whole read 0.47-0.70 million rows/s in UTF-8 and 0.34-0.41 million in GB18030, where
``csv.reader`` alone does 1.6-2.2 and 1.0-1.35 million. So 6,000,000 responses take
10-15 s. An .xlsx reads at openpyxl's pace, 7,000-13,000 rows/s here, and a sheet
holds at most 1,048,576 rows: the large responses file should come as CSV.

Row numbers are the ones a spreadsheet shows: the header is row 1 and every CSV record
counts as one row, blank ones included, so a quoted cell spanning several lines still
counts once (this is ``records read + 1``, not the ``csv`` reader's ``line_num``). The
one exception is a file whose bytes are neither UTF-8 nor GB18030: it is refused
before any parsing, naming the physical line that holds the first bad byte.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import warnings
import zipfile
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import openpyxl

from marking.domain import archives
from marking.errors import InputError, InputErrors, MarkingError

__all__ = ["find_table", "read_rows"]

_CHUNK = 1 << 20
_ENCODING_REASON = "bytes are neither UTF-8 nor GB18030"
# A spreadsheet keeps 15 significant digits; a longer number typed into a number cell
# (an 18-digit ID number, a long exam number) has already lost its last digits.
_EXACT_LIMIT = 1e15

Row = tuple[int, tuple[str, ...]]


def find_table(folder: Path, stem: str, *, required: bool = True) -> Path | None:
    """Return ``folder/stem.csv`` or ``folder/stem.xlsx``, whichever exists.

    Raises InputError when both exist (which one is meant is a guess we refuse to
    make), when only the old ``.xls`` format is there, or when neither exists and
    ``required`` is true; returns None when neither exists and it is not.
    """
    csv_path = folder / f"{stem}.csv"
    xlsx_path = folder / f"{stem}.xlsx"
    found = [p for p in (csv_path, xlsx_path) if p.is_file()]
    if len(found) == 2:
        raise InputError(
            csv_path.name,
            f"both {csv_path.name} and {xlsx_path.name} are present; keep only one",
        )
    if found:
        return found[0]
    xls_path = folder / f"{stem}.xls"
    if xls_path.is_file():
        # Checked even when the table is optional: the office clearly meant to send it.
        raise InputError(
            xls_path.name,
            "the old .xls format cannot be read; save it as .xlsx or as CSV (UTF-8)",
        )
    if not required:
        return None
    raise InputError(
        csv_path.name,
        f"missing: expected {csv_path.name} or {xlsx_path.name} in {folder}",
    )


def read_rows(
    path: Path, columns: Sequence[str], *, optional: Sequence[str] = ()
) -> Generator[Row, None, None]:
    """Yield ``(row_number, values)`` for each non-blank data row of a CSV or .xlsx table.

    ``values`` holds the cells of ``columns`` then ``optional``, in that order, as
    strings stripped of surrounding whitespace; an optional column absent from the file
    reads as "". Header names match case-insensitively, ignoring surrounding spaces and
    a byte-order mark. Columns whose header cell is empty are allowed as long as their
    cells are empty too (spreadsheets leave such columns behind), and so are empty
    cells beyond the header's width; rows with fewer cells than the header are padded
    with "".

    An unsupported file type raises InputError at once; every other problem surfaces
    while iterating: InputError for a file that cannot be read, bytes that are neither
    UTF-8 nor GB18030, an empty file, a blank header row, a non-empty cell outside the
    header's named columns, malformed CSV quoting, a number too long to be exact in an
    .xlsx, and a file with no data rows; for a missing, unknown or duplicate column,
    InputError at row 1, or InputErrors listing them when the header has several.
    The workbook or file is closed when the iterator ends or is closed.
    """
    wanted = [*columns, *optional]
    keys = [_header_key(name) for name in wanted]
    if len(set(keys)) != len(keys) or "" in keys:
        raise ValueError(f"column names must be distinct and non-empty: {wanted!r}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, keys, len(columns))
    if suffix == ".xlsx":
        return _read_xlsx(path, keys, len(columns))
    raise InputError(path.name, "unsupported file type: expected .csv or .xlsx")


# --- encodings --------------------------------------------------------------------------


def read_text(path: Path) -> str:
    """A whole small text file in UTF-8 or GB18030, as the tables are read (InputError if
    it is neither, or cannot be read)."""
    encoding = _detect_encoding(path)
    return path.read_text(encoding=encoding)


def _detect_encoding(path: Path) -> str:
    """Pick the codec for a CSV file from a validity scan of its bytes.

    UTF-8 wins when the whole file decodes as UTF-8 (plain ASCII does too, and GBK
    text almost never does); otherwise GB18030, of which GBK is a subset.
    """
    file = path.name
    try:
        with path.open("rb") as raw:
            head = raw.read(_CHUNK)
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise InputError(
                    file,
                    f"{_ENCODING_REASON}: the file is UTF-16 (Excel's 'Unicode Text'); "
                    "save it as CSV UTF-8",
                    row=1,
                )
            bad_line = _first_invalid_utf8_line(head, raw)
            if bad_line is None:
                return "utf-8-sig"
            raw.seek(0)
            if _valid_gb18030(raw):
                return "gb18030"
    except OSError as exc:
        raise InputError(file, f"cannot read the file: {exc.strerror or exc}") from exc
    raise InputError(file, f"{_ENCODING_REASON}; save it as CSV UTF-8", row=bad_line)


def _first_invalid_utf8_line(head: bytes, raw: Any) -> int | None:
    """Return the 1-based line of the first byte that is not UTF-8, or None if all is."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0
    chunk = head
    while True:
        # Bytes of a sequence split across chunks wait in the decoder's buffer; an
        # error's offset counts from the start of that buffer, not of this chunk.
        pending: bytes = decoder.getstate()[0]
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            return newlines + (pending + chunk)[: exc.start].count(b"\n") + 1
        if not chunk:
            return None
        newlines += chunk.count(b"\n")
        chunk = raw.read(_CHUNK)


def _valid_gb18030(raw: Any) -> bool:
    decoder = codecs.getincrementaldecoder("gb18030")()
    try:
        while chunk := raw.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


# --- layout -----------------------------------------------------------------------------


def _header_key(cell: str) -> str:
    return cell.strip().removeprefix("\ufeff").strip().casefold()


def _column_letter(position: int) -> str:
    """Spreadsheet letters for a 0-based column position: 0 -> A, 26 -> AA."""
    letters = ""
    n = position + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _getter(positions: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    # itemgetter with one index returns the item, not a 1-tuple.
    if len(positions) == 1:
        (only,) = positions
        return lambda cells: (cells[only],)
    return itemgetter(*positions)


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each wanted column sits in the file's rows, worked out once from the header."""

    width: int
    # Picks the wanted values from a row's texts; when an optional column is absent
    # from the file, the texts get one "" appended and the column points at it.
    pick: Callable[[Sequence[str]], tuple[str, ...]]
    append_empty: bool
    labels: tuple[str, ...]
    unnamed: tuple[int, ...]

    def label(self, position: int) -> str:
        return self.labels[position] if position < len(self.labels) else _column_letter(position)


def _layout(file: str, header: Sequence[str], keys: Sequence[str], n_required: int) -> _Layout:
    if not any(header):
        expected = ", ".join(keys[:n_required])
        if len(keys) > n_required:
            expected += " (optional: " + ", ".join(keys[n_required:]) + ")"
        raise InputError(file, f"row 1 is blank; it must be the header: {expected}", row=1)
    wanted = set(keys)
    seen: dict[str, int] = {}
    unnamed: list[int] = []
    labels: list[str] = []
    problems: list[InputError] = []
    for position, cell in enumerate(header):
        key = _header_key(cell)
        label = cell.strip().removeprefix("\ufeff").strip()
        labels.append(label or _column_letter(position))
        if not key:
            unnamed.append(position)
        elif key in seen:
            problems.append(InputError(file, "duplicate column", row=1, column=label))
        elif key not in wanted:
            reason = "unknown column; expected " + ", ".join(keys)
            if "\t" in label or ";" in label:
                reason += " (the file seems separated by tabs or semicolons, not commas)"
            problems.append(InputError(file, reason, row=1, column=label))
        else:
            seen[key] = position
    for key in keys[:n_required]:
        if key not in seen:
            problems.append(InputError(file, "missing column", row=1, column=key))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InputErrors(problems)
    width = len(header)
    pick = _getter([seen.get(key, width) for key in keys])
    return _Layout(width, pick, len(seen) < len(keys), tuple(labels), tuple(unnamed))


# --- rows -------------------------------------------------------------------------------


class _CellError(Exception):
    """A cell whose value cannot be turned into text faithfully (raised by a converter)."""


def _rows(
    file: str,
    records: Iterator[Sequence[Any]],
    keys: Sequence[str],
    n_required: int,
    convert: Callable[[Any], str],
) -> Iterator[Row]:
    """The per-row loop shared by CSV and .xlsx; kept to a few C-level calls per row."""
    row_number = 0  # rows read so far; a csv.Error concerns the next one
    try:
        header = next(records, None)
        row_number = 1
        if header is None:
            raise InputError(file, "empty file: expected a header row with " + ", ".join(keys))
        layout = _layout(file, _texts(file, 1, header, convert), keys, n_required)
        width, pick, unnamed = layout.width, layout.pick, layout.unnamed
        append_empty = layout.append_empty
        emitted = False
        for cells in records:
            row_number += 1
            try:
                texts = list(map(convert, cells))
            except _CellError:
                texts = _texts(file, row_number, cells, convert, layout)
            if len(texts) != width:
                _fit(file, row_number, texts, layout)
            if unnamed:
                _check_unnamed(file, row_number, texts, layout)
            if append_empty:
                texts.append("")
            values = pick(texts)
            if not any(values):
                continue  # a blank row: spreadsheets are full of them
            emitted = True
            yield row_number, values
    except csv.Error as exc:
        raise InputError(file, f"malformed CSV: {exc}", row=row_number + 1) from exc
    if not emitted:
        raise InputError(file, "no data rows below the header")


def _texts(
    file: str,
    row_number: int,
    cells: Sequence[Any],
    convert: Callable[[Any], str],
    layout: _Layout | None = None,
) -> list[str]:
    """Convert a row cell by cell, naming the cell that cannot be converted."""
    texts = []
    for position, cell in enumerate(cells):
        try:
            texts.append(convert(cell))
        except _CellError as exc:
            column = layout.label(position) if layout else _column_letter(position)
            raise InputError(file, str(exc), row=row_number, column=column) from None
    return texts


def _fit(file: str, row_number: int, texts: list[str], layout: _Layout) -> None:
    """Pad a short row in place; accept a long one only if its extra cells are empty."""
    width = layout.width
    if len(texts) < width:
        texts.extend([""] * (width - len(texts)))
        return
    for position in range(width, len(texts)):
        if texts[position]:
            raise InputError(
                file,
                f"a cell outside the header's {width} columns is not empty",
                row=row_number,
                column=_column_letter(position),
            )
    del texts[width:]


def _check_unnamed(file: str, row_number: int, texts: list[str], layout: _Layout) -> None:
    for position in layout.unnamed:
        if texts[position]:
            raise InputError(
                file,
                "a cell in a column whose header is empty is not empty",
                row=row_number,
                column=layout.labels[position],
            )


# --- CSV --------------------------------------------------------------------------------


def _read_csv(path: Path, keys: Sequence[str], n_required: int) -> Generator[Row, None, None]:
    file = path.name
    encoding = _detect_encoding(path)
    try:
        handle = path.open(encoding=encoding, newline="")
    except OSError as exc:
        raise InputError(file, f"cannot read the file: {exc.strerror or exc}") from exc
    with handle:
        # strict: a quote left open would otherwise swallow the rest of the file
        # into one cell, silently.
        records = csv.reader(handle, strict=True)
        try:
            yield from _rows(file, records, keys, n_required, str.strip)
        except UnicodeDecodeError as exc:  # the file changed after the scan
            raise InputError(file, _ENCODING_REASON) from exc


# --- XLSX -------------------------------------------------------------------------------

_MIDNIGHT = dt.time()


def _xlsx_text(value: Any) -> str:
    """Text of an .xlsx cell value, as the office would read it on screen."""
    kind = type(value)
    if kind is str:
        text: str = value.strip()
        return text
    if value is None:
        return ""
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is int:
        return str(value)
    if kind is float:
        if value.is_integer():
            # Exam numbers typed as numbers arrive as floats: 20260001.0 -> "20260001".
            if abs(value) >= _EXACT_LIMIT:
                raise _CellError(
                    "a number longer than 15 digits cannot be stored exactly by a "
                    "spreadsheet (its last digits are lost); format the column as text "
                    "and type the values again"
                )
            return str(int(value))
        return str(value)
    if kind is dt.datetime:
        if value.time() == _MIDNIGHT and value.tzinfo is None:
            return str(value.date().isoformat())
        return str(value.isoformat(sep=" "))
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _read_xlsx(path: Path, keys: Sequence[str], n_required: int) -> Generator[Row, None, None]:
    file = path.name
    # A workbook is a zip: checked entry by entry before openpyxl unpacks any of it.
    with archives.open_zip(
        path, name=file, limits=archives.WORKBOOK, unreadable=_unreadable(zipfile.BadZipFile())
    ):
        pass
    try:
        # openpyxl warns about features it drops (data validation, styles); they do
        # not matter for reading values.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise InputError(file, f"cannot read the file: {exc.strerror or exc}") from exc
    except Exception as exc:
        # openpyxl reports a broken file with whatever its parsers raise.
        raise InputError(file, _unreadable(exc)) from exc
    records: Generator[Sequence[Any], None, None] | None = None
    try:
        if not workbook.worksheets:
            raise InputError(file, "the workbook has no worksheet")
        sheet = workbook.worksheets[0]
        # The stored dimensions are often wrong (some tools write "A1"); without them
        # openpyxl reads every cell there is.
        sheet.reset_dimensions()
        records = sheet.iter_rows(values_only=True)
        try:
            yield from _rows(file, records, keys, n_required, _xlsx_text)
        except MarkingError:
            raise
        except Exception as exc:
            raise InputError(file, _unreadable(exc)) from exc
    finally:
        # The row generator holds the sheet's zip member open; closing the workbook
        # alone would leave the file open until garbage collection.
        if records is not None:
            records.close()
        workbook.close()


def _unreadable(exc: Exception) -> str:
    # The exception's type only: its message may quote cell contents.
    return f"not a readable .xlsx workbook ({type(exc).__name__})"

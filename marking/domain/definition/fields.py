"""Typed fields of a TOML table (text, numbers, dates, arrays), collecting each problem."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from marking.domain.rules import MarkRefused, parse_mark
from marking.errors import InputError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MARK_LIMIT = Decimal(1000)  # no question is worth more; bounds Decimal arithmetic too
# A mark-like number refused by rules.parse_mark, as a session definition's problem.
_NUMBER_PROBLEMS = {
    "not_decimal": "must be a finite number",
    "negative": "must be greater than 0",
    "too_fine": "must be a multiple of 0.001 (marks are kept in thousandths), "
    "written with at most three decimals",
    "too_long": f"must be at most {_MARK_LIMIT}",
    "above_max": f"must be at most {_MARK_LIMIT}",
}


def toml_kind(value: object) -> str:
    """How a problem names the kind of a TOML value: "an integer", "a table", ..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, Decimal):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dt.date | dt.time):
        return "a date or time"
    return type(value).__name__  # pragma: no cover - tomllib produces nothing else


class FieldReader:
    """Reads typed fields of a session definition, collecting every problem in ``problems``."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[InputError] = []

    def problem(self, where: str, column: str | None, reason: str) -> None:
        """Record a problem at ``where`` (such as ``groups[2] (short)``), in ``column`` if any."""
        self.problems.append(InputError(self.file, reason, row=where, column=column))

    def mark(
        self,
        entry: Mapping[str, Any],
        where: str,
        field: str,
        *,
        positive: bool,
        required: bool = True,
        default: Decimal | None = None,
    ) -> Decimal | None:
        """A mark-like number: max, step or tolerance."""
        if field not in entry:
            if default is not None:
                return default
            if required:
                if field == "tolerance":
                    self.problem(
                        where,
                        field,
                        "missing: a question marked by examiners needs a tolerance "
                        "(the largest gap allowed between two examiners' marks)",
                    )
                else:
                    self.problem(where, field, "missing (required)")
            return None
        value = entry[field]
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.problem(where, field, f"must be a number, not {toml_kind(value)}")
            return None
        try:
            # The same gate as every mark (the float's text as written, via parse_float).
            number = parse_mark(value, maximum=_MARK_LIMIT)
        except MarkRefused as refused:
            if refused.reason == "negative" and not positive:
                self.problem(where, field, "must not be negative")
            else:
                self.problem(where, field, _NUMBER_PROBLEMS[refused.reason])
            return None
        if positive and number == 0:
            self.problem(where, field, "must be greater than 0")
            return None
        return number

    def text(
        self,
        entry: Mapping[str, Any],
        where: str,
        field: str,
        *,
        required: bool = True,
        default: str = "",
        strip: bool = True,
    ) -> str | None:
        """A text field; required ones must not be empty either."""
        if field not in entry:
            if required:
                self.problem(where, field, "missing (required)")
                return None
            return default
        value = entry[field]
        if not isinstance(value, str):
            self.problem(where, field, f"must be text, not {toml_kind(value)}")
            return None
        if strip:
            value = value.strip()
        if required and not value:
            self.problem(where, field, "must not be empty")
            return None
        return value

    def integer(
        self, entry: Mapping[str, Any], where: str, field: str, *, default: int | None = None
    ) -> int | None:
        if field not in entry:
            if default is None:
                self.problem(where, field, "missing (required)")
            return default
        value = entry[field]
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(where, field, f"must be a whole number, not {toml_kind(value)}")
            return None
        return value

    def date(self, entry: Mapping[str, Any], where: str, field: str) -> dt.date | None:
        if field not in entry:
            self.problem(where, field, "missing (required)")
            return None
        value = entry[field]
        if isinstance(value, dt.datetime):
            self.problem(where, field, "must be a date without a time, such as 2026-12-05")
            return None
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.problem(where, field, "must be a date such as 2026-12-05")
        return None

    # --- structure ---

    def table(self, document: Mapping[str, Any], field: str, where: str) -> dict[str, Any] | None:
        value = document.get(field)
        if value is None:
            self.problem(field, None, f"missing the [{field}] table")
            return None
        if not isinstance(value, dict):
            self.problem(where, field, f"must be a table ([{field}]), not {toml_kind(value)}")
            return None
        return value

    def array(
        self,
        entry: Mapping[str, Any],
        field: str,
        where: str,
        written: str,
        *,
        required: bool = False,
    ) -> list[tuple[int, dict[str, Any]]]:
        """Entries of an array of tables, numbered from 1; wrong shapes are reported."""
        if field not in entry:
            if required:
                self.problem(where, field, f"missing: declare at least one {written}")
            return []
        value = entry[field]
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.problem(where, field, f"must be an array of tables, written {written}")
            return []
        return list(enumerate(value, start=1))

    def unknown_keys(self, where: str, entry: Mapping[str, Any], allowed: Sequence[str]) -> None:
        for key in entry:
            if key not in allowed:
                self.problem(where, key, "unknown key; allowed: " + ", ".join(allowed))

"""The API's reading of a request's arguments: a JSON object or form fields, and their text
and whole-number fields, each refused with its name when malformed."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask import request

from marking.errors import MarkingError


def body() -> dict[str, Any]:
    """The request's arguments: a JSON object (none when the body is empty), or form fields."""
    if not request.is_json:
        return dict(request.form)
    if not request.get_data(cache=True):
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise MarkingError("the request body must be a JSON object")
    return data


def text(data: dict[str, Any], name: str, default: str = "") -> str:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str | int | float | Decimal):
        raise MarkingError(f"{name} must be a string")
    return str(value)


_WHOLE = re.compile(r"[+-]?[0-9]{1,9}")


def integer(data: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = data.get(name, default)
    if value in (None, ""):
        return default
    # Only a JSON integer or a string of digits: a float (1.5, 1e500000, Infinity) or a
    # boolean is not a count, and int() of a huge exponent would hold the worker for seconds.
    whole = isinstance(value, int | str) and not isinstance(value, bool)
    if not whole or not _WHOLE.fullmatch(str(value).strip()):
        raise MarkingError(f"{name} must be a whole number")
    return int(str(value).strip())

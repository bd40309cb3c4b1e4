"""Reports, as the command line and the web ask for them: the data read here, the bytes made
by ``reports``, whose errors become the domain's ``ReportFailed`` (same message, exit code 8,
the web's 400) in this one place."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from marking.errors import report_refusals
from reports import produce as _produce

KINDS = _produce.KINDS
MEDIA_TYPES = _produce.MEDIA_TYPES

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _refusals_as_failed(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """``function`` of ``reports``, its ReportError raised as ReportFailed."""

    @functools.wraps(function)
    def call(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with report_refusals():
            return function(*args, **kwargs)

    return call


infer_format = _refusals_as_failed(_produce.infer_format)
produce = _refusals_as_failed(_produce.produce)

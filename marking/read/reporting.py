"""Reports, as the command line and the web ask for them: the data read here, the bytes made
by ``reports``, whose errors become the domain's ``ReportFailed`` (same message, exit code 8,
the web's 400) in this one place."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from marking.errors import ReportFailed
from reports import produce as _produce
from reports.data import Register, StatsInput
from reports.errors import ReportError

KINDS = _produce.KINDS
MEDIA_TYPES = _produce.MEDIA_TYPES


def infer_format(kind: str, out: Path | None, fmt: str | None) -> str:
    """``reports.produce.infer_format``, its refusals as ``ReportFailed``."""
    try:
        return _produce.infer_format(kind, out, fmt)
    except ReportError as exc:
        raise ReportFailed(str(exc)) from None


def produce(
    kind: str,
    data: Register | StatsInput,
    *,
    fmt: str = "pdf",
    lang: str = "zh",
    exam_nos: Sequence[str] | None = None,
    workers: int | None = None,
) -> bytes:
    """``reports.produce.produce``, its refusals as ``ReportFailed``."""
    try:
        return _produce.produce(kind, data, fmt=fmt, lang=lang, exam_nos=exam_nos, workers=workers)
    except ReportError as exc:
        raise ReportFailed(str(exc)) from None

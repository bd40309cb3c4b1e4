"""One entry point for the command line and the web: a report kind, its data, bytes out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from reports import render, tables
from reports.data import Register, StatsInput
from reports.errors import ReportError

KINDS = ("register", "notices", "passlist", "stats")
FORMATS = ("pdf", "csv", "xlsx")
TABLE_KINDS = ("register", "stats")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def infer_format(kind: str, out: Path | None, fmt: str | None) -> str:
    """``fmt`` if given, else from the output's extension; checked against the kind."""
    if fmt is None:
        suffix = out.suffix.lower().lstrip(".") if out is not None else ""
        fmt = suffix if suffix in FORMATS else None
        if fmt is None:
            raise ReportError(
                f"cannot tell the format from {out}: use a .pdf, .csv or .xlsx name, or --format"
            )
    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fmt != "pdf" and kind not in TABLE_KINDS:
        raise ReportError(f"the {kind} report is PDF only; CSV and XLSX exist for register, stats")
    return fmt


def produce(
    kind: str,
    data: Register | StatsInput,
    *,
    fmt: str = "pdf",
    lang: str = "zh",
    exam_nos: Sequence[str] | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The report's bytes. ``data`` comes from ``marking.read.reportdata.gather``;
    ``progress(done, total)`` follows the notices' candidates (other kinds ignore it)."""
    if kind not in KINDS:
        raise ReportError(f"unknown report {kind!r}: choose one of {', '.join(KINDS)}")
    if exam_nos is not None and kind != "notices":
        raise ReportError("choosing candidates applies to notices only")
    if kind == "stats":
        if not isinstance(data, StatsInput):
            raise TypeError("stats needs StatsInput")
        if fmt == "pdf":
            return render.render_stats(data, lang=lang)
        chosen = tables.stats_tables(data, lang)
    else:
        if not isinstance(data, Register):
            raise TypeError(f"{kind} needs a Register")
        if kind == "notices":
            return render.render_notices(
                data, lang=lang, exam_nos=exam_nos, workers=workers, progress=progress
            )
        if kind == "passlist":
            return render.render_passlist(data, lang=lang, paging=render.Paging(workers))
        if fmt == "pdf":
            return render.render_register(data, lang=lang, paging=render.Paging(workers))
        chosen = tables.register_tables(data, lang)
    return tables.to_csv(chosen) if fmt == "csv" else tables.to_xlsx(chosen)


def write(out: Path, content: bytes) -> Path:
    """Write atomically: a reader never sees half a report."""
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    part.write_bytes(content)
    part.replace(out)
    return out

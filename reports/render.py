"""Reports as PDF: data → HTML (Jinja, autoescaped) → PDF (WeasyPrint), in worker processes.

Long documents are cut where they split naturally and rendered in parallel: notices one
candidate a page, registers and pass lists in page-aligned chunks (rows have a fixed
height, so a page holds exactly ``ROWS_PER_PAGE`` rows and every chunk knows its first
page number and the total before it starts). The chunks are merged in order with pypdf.
Each chunk's page count is checked against the plan, so a footer can never lie.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import math
import multiprocessing
import os
import resource
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from fontTools.ttLib import TTFont
from pypdf import PdfWriter
from weasyprint import HTML

from reports import charts
from reports.data import CandidateRow, Register, StatsInput
from reports.errors import ReportError
from reports.fetcher import ReportFetcher, ResourceRefused
from reports.fonts import cjk_fonts
from reports.i18n import catalog, titled
from reports.stats import BIN_EDGES, PASS_MARK, statistics

ASSETS = Path(__file__).resolve().parent / "assets"
ROWS_PER_PAGE = 36
PAGES_PER_CHUNK = 20
NOTICES_PER_CHUNK = 50
# A worker is replaced after this many chunks, so WeasyPrint's caches cannot grow unbounded.
TASKS_PER_WORKER = 8


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _css_string(text: str) -> str:
    """A CSS string literal; also safe inside an HTML <style> element (no "<")."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ")
    return '"' + escaped.replace("\n", "\\A ") + '"'


def footer_css(lang: str, total: int | None, lines: Sequence[str]) -> str:
    """The CSS ``content`` of the page footer: "page X of Y" then fixed lines."""
    parts: list[str] = []
    if total is not None:
        before, after = catalog(lang)["page"].split("{x}")
        parts += [_css_string(before), "counter(page)", _css_string(after.format(y=total))]
    if lines:
        text = "\n".join(lines)
        parts.append(_css_string(("\n" if parts else "") + text))
    return " ".join(parts)


def _html(template: str, lang: str, **context: Any) -> str:
    fonts = cjk_fonts()
    return (
        _environment()
        .get_template(template)
        .render(
            t=catalog(lang),
            html_lang="zh-CN" if lang == "zh" else "en",
            font_regular=fonts.regular.as_uri(),
            font_bold=fonts.bold.as_uri(),
            font_mono=fonts.mono.as_uri(),
            **context,
        )
    )


def html_to_pdf(html: str, *, expected_pages: int | None = None) -> tuple[bytes, int]:
    """Render one HTML document; returns the PDF and its page count.

    Raises ReportError when the document asks for a resource the fetcher refuses, or when
    it does not come out at ``expected_pages`` (the page plan would be wrong).
    """
    fetcher = ReportFetcher(ASSETS, cjk_fonts().files)
    try:
        document = HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=fetcher).render()
    except ResourceRefused as exc:
        raise ReportError(str(exc)) from None
    pages = len(document.pages)
    if expected_pages is not None and pages != expected_pages:
        raise ReportError(f"layout gave {pages} page(s) where {expected_pages} were planned")
    pdf = document.write_pdf()
    assert pdf is not None
    return pdf, pages


def page_count(html: str) -> int:
    fetcher = ReportFetcher(ASSETS, cjk_fonts().files)
    try:
        return len(
            HTML(string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=fetcher).render().pages
        )
    except ResourceRefused as exc:
        raise ReportError(str(exc)) from None


# --- running the chunks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One chunk: a template and its context, and the pages it must come out at."""

    template: str
    lang: str
    context: dict[str, Any]
    expected_pages: int | None


def run_job(job: Job) -> bytes:
    pdf, _pages = html_to_pdf(
        _html(job.template, job.lang, **job.context), expected_pages=job.expected_pages
    )
    return pdf


def _run_job_in_worker(job: Job) -> tuple[bytes, int]:
    """A chunk rendered in a worker, with the worker's peak RSS so far (KiB)."""
    pdf = run_job(job)
    return pdf, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# The largest peak RSS any rendering worker reported (KiB), for the benchmark.
_worker_peak = {"kib": 0}


def worker_peak_rss_mib() -> float:
    """The largest peak RSS of a worker process since the last call (MiB); then reset."""
    kib, _worker_peak["kib"] = _worker_peak["kib"], 0
    return kib / 1024


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def run_jobs(jobs: Sequence[Job], workers: int | None = None) -> Iterator[bytes]:
    """Each job's PDF, in order. In worker processes when there is more than one job."""
    workers = default_workers() if workers is None else workers
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run_job(job)
        return
    # forkserver: workers start from a clean process that has imported WeasyPrint once,
    # not from a copy of the caller (which may hold a database connection or threads).
    # multiprocessing.Pool rather than ProcessPoolExecutor: on Python 3.11 the latter can
    # hang when it replaces workers (max_tasks_per_child).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["reports.render"])
    with context.Pool(min(workers, len(jobs)), maxtasksperchild=TASKS_PER_WORKER) as pool:
        # imap keeps the order and hands results over as they come, to be merged.
        for pdf, peak in pool.imap(_run_job_in_worker, jobs):
            _worker_peak["kib"] = max(_worker_peak["kib"], peak)
            yield pdf


def merge(parts: Iterator[bytes], *, title: str) -> bytes:
    writer = PdfWriter()
    for part in parts:
        writer.append(io.BytesIO(part))
    writer.add_metadata({"/Title": title, "/Producer": "blindmark"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- score register and pass list ----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of a long table: its label, its width in half-em cells, and alignment."""

    label: str
    cells: int
    align: str = "left"


@cache
def _advances() -> dict[int, int]:
    """Advance of every character of the monospaced face, in half-em cells (1 or 2)."""
    font = TTFont(str(cjk_fonts().mono), lazy=True)
    try:
        per_em = font["head"].unitsPerEm
        metrics = font["hmtx"].metrics
        return {
            code: max(1, round(2 * metrics[glyph][0] / per_em))
            for code, glyph in font.getBestCmap().items()
        }
    finally:
        font.close()


def text_cells(text: str) -> int:
    advances = _advances()
    return sum(advances.get(ord(ch), 2) for ch in text)


def fit(text: str, cells: int, align: str = "left") -> str:
    """``text`` padded (or cut, ending in …) to exactly ``cells`` half-em cells."""
    text = " ".join(text.split())  # a cell is one line, whatever it was given
    if text_cells(text) > cells:
        while text and text_cells(text + "…") > cells:
            text = text[:-1]
        text += "…"
    pad = " " * (cells - text_cells(text))
    return pad + text if align == "right" else text + pad


@dataclass(frozen=True)
class Grid:
    """Rows of a long table set as single lines of monospaced text: one line box a row is
    what makes 10,000 rows cheap to lay out, and a fixed line height what makes pages
    predictable. The rules are one SVG drawing a page."""

    columns: tuple[Column, ...]
    font_pt: float
    row_pt: float = 17.5

    GUTTER = 1  # cells of space each side of a column's text

    @classmethod
    def fitting(cls, columns: Sequence[Column], width_pt: float = 515.0) -> Grid:
        cells = sum(c.cells + 2 * cls.GUTTER for c in columns)
        return cls(tuple(columns), font_pt=min(9.0, round(2 * width_pt / cells, 2)))

    @property
    def cell_pt(self) -> float:
        return self.font_pt / 2

    @property
    def width_pt(self) -> float:
        return sum(c.cells + 2 * self.GUTTER for c in self.columns) * self.cell_pt

    def height_pt(self, rows: int) -> float:
        return (rows + 1) * self.row_pt

    def line(self, cells: Sequence[str]) -> str:
        gutter = " " * self.GUTTER
        return "".join(
            gutter + fit(text, c.cells, c.align) + gutter
            for text, c in zip(cells, self.columns, strict=True)
        )

    def header(self) -> str:
        return "".join(
            " " * self.GUTTER + fit(c.label, c.cells) + " " * self.GUTTER for c in self.columns
        )

    def svg(self, rows: int) -> str:
        width, height = self.width_pt, self.height_pt(rows)
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.2f}pt" '
            f'height="{height:.2f}pt" viewBox="0 0 {width:.2f} {height:.2f}">',
            f'<rect x="0" y="0" width="{width:.2f}" height="{self.row_pt}" fill="#e8e8e8"/>',
            '<g stroke="#555" stroke-width="0.4">',
        ]
        for i in range(rows + 2):
            y = min(i * self.row_pt, height)
            parts.append(f'<line x1="0" y1="{y:.2f}" x2="{width:.2f}" y2="{y:.2f}"/>')
        x = 0.0
        parts.append(f'<line x1="0" y1="0" x2="0" y2="{height:.2f}"/>')
        for c in self.columns:
            x += (c.cells + 2 * self.GUTTER) * self.cell_pt
            parts.append(f'<line x1="{x:.2f}" y1="0" x2="{x:.2f}" y2="{height:.2f}"/>')
        parts.append("</g></svg>")
        return "".join(parts)


def _footer_lines(reg: Register, lang: str) -> list[str]:
    t = catalog(lang)
    return [
        f"{t['results_sha256']}: {reg.publication.results_sha256}",
        f"{t['ledger_head']}: {reg.publication.ledger_head}",
    ]


def _table_jobs(
    reg: Register,
    lang: str,
    *,
    title: str,
    grid: Grid,
    rows: list[str],
    tail: dict[str, Any],
    rows_per_page: int,
    pages_per_chunk: int,
) -> list[Job]:
    """Chunks of whole pages of rows, then the tail (attributions and signatures)."""
    lines = _footer_lines(reg, lang)
    common = {
        "title": title,
        "session": reg.session,
        "publication": reg.publication,
    }
    tail_context = {**common, **tail, "footer": footer_css(lang, None, lines), "first_page": None}
    tail_pages = page_count(_html("attributions.html", lang, **tail_context))
    row_pages = math.ceil(len(rows) / rows_per_page)
    total = row_pages + tail_pages
    jobs: list[Job] = []
    per_chunk = rows_per_page * pages_per_chunk
    for start in range(0, len(rows), per_chunk):
        chunk = rows[start : start + per_chunk]
        pages = [chunk[i : i + rows_per_page] for i in range(0, len(chunk), rows_per_page)]
        jobs.append(
            Job(
                "table.html",
                lang,
                {
                    **common,
                    "grid": grid,
                    "header": grid.header(),
                    "pages": pages,
                    "footer": footer_css(lang, total, lines),
                    "first_page": start // rows_per_page + 1,
                },
                len(pages),
            )
        )
    jobs.append(
        Job(
            "attributions.html",
            lang,
            {**tail_context, "footer": footer_css(lang, total, lines), "first_page": row_pages + 1},
            tail_pages,
        )
    )
    return jobs


def _score_columns(reg: Register, lang: str) -> list[str]:
    t = catalog(lang)
    return [c.name for c in reg.components] + ([t["interview"]] if reg.has_interview else [])


def _scores(reg: Register, row: CandidateRow) -> list[str]:
    cells = [s if s is not None else "-" for s in row.scores]
    if reg.has_interview:
        cells.append(row.interview if row.interview is not None else "-")
    return cells


@dataclass(frozen=True)
class Paging:
    """How a long table is cut: rows a page, pages a chunk, and processes to render them."""

    workers: int | None = None
    rows_per_page: int = ROWS_PER_PAGE
    pages_per_chunk: int = PAGES_PER_CHUNK


def _paged_table(
    reg: Register,
    lang: str,
    paging: Paging,
    *,
    title: str,
    columns: list[Column],
    rows: list[tuple[str, ...]],
    tail: dict[str, Any],
) -> bytes:
    grid = Grid.fitting(columns)
    jobs = _table_jobs(
        reg,
        lang,
        title=title,
        grid=grid,
        rows=[grid.line(r) for r in rows],
        tail=tail,
        rows_per_page=paging.rows_per_page,
        pages_per_chunk=paging.pages_per_chunk,
    )
    return merge(run_jobs(jobs, paging.workers), title=f"{title} {reg.session.code}")


def _columns(
    labels: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: range,
    first: str = "left",
    widest: int = 30,
) -> list[Column]:
    """Columns as wide as their widest text (label or value), up to ``widest`` cells."""
    widths = [text_cells(label) for label in labels]
    seen: list[set[str]] = [set() for _ in labels]
    for row in rows:
        for j, value in enumerate(row):
            if value not in seen[j]:
                seen[j].add(value)
                widths[j] = max(widths[j], text_cells(value))
    return [
        Column(
            label,
            min(width, widest),
            "right" if j in right or (j == 0 and first == "right") else "left",
        )
        for j, (label, width) in enumerate(zip(labels, widths, strict=True))
    ]


def render_register(reg: Register, *, lang: str = "zh", paging: Paging = Paging()) -> bytes:
    """The score register (成绩册): every candidate by exam number, then the attributions."""
    t = catalog(lang)
    rows = [
        (str(i), r.exam_no, r.name, r.id_number, *_scores(reg, r), t[r.outcome])
        for i, r in enumerate(sorted(reg.rows, key=lambda r: r.exam_no), start=1)
    ]
    labels = [t["seq"], t["exam_no"], t["name"], t["id_number"], *_score_columns(reg, lang)]
    columns = _columns([*labels, t["outcome"]], rows, right=range(4, len(labels)), first="right")
    signers = [t["tally"], t["approver"], t["lead"]]
    return _paged_table(
        reg,
        lang,
        paging,
        title=titled(t, "register", reg.publication.revision),
        columns=columns,
        rows=rows,
        tail={"groups": reg.groups, "signers": signers, "extra": (t["lead"], reg.lead)},
    )


def render_passlist(reg: Register, *, lang: str = "zh", paging: Paging = Paging()) -> bytes:
    """The pass list (合格人员名册) for certificates: candidates whose outcome is pass."""
    t = catalog(lang)
    passed = sorted((r for r in reg.rows if r.outcome == "pass"), key=lambda r: r.exam_no)
    rows = [
        (str(i), r.exam_no, r.name, r.id_number, r.institution, *_scores(reg, r))
        for i, r in enumerate(passed, start=1)
    ]
    labels = [t["seq"], t["exam_no"], t["name"], t["id_number"], t["institution"]]
    labels += _score_columns(reg, lang)
    columns = _columns(labels, rows, right=range(5, len(labels)), first="right")
    return _paged_table(
        reg,
        lang,
        paging,
        title=titled(t, "passlist", reg.publication.revision),
        columns=columns,
        rows=rows,
        tail={
            "groups": (),
            "signers": [t["tally"], t["approver"]],
            "extra": (t["passlist_count"], str(len(rows))),
        },
    )


# --- notices -----------------------------------------------------------------------------------


def choose(reg: Register, exam_nos: Sequence[str] | None) -> list[CandidateRow]:
    """The candidates asked for, by exam number (all when None); unknown ones refused."""
    if exam_nos is None:
        return sorted(reg.rows, key=lambda r: r.exam_no)
    by_no = {r.exam_no: r for r in reg.rows}
    unknown = [n for n in exam_nos if n not in by_no]
    if unknown:
        shown = ", ".join(unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        raise ReportError(f"no published result for exam number(s): {shown}")
    if not exam_nos:
        raise ReportError("no candidate chosen for the notices")
    return [by_no[n] for n in dict.fromkeys(exam_nos)]


def _notice(reg: Register, row: CandidateRow, lang: str) -> dict[str, Any]:
    t = catalog(lang)
    lines: list[tuple[str, str, str]] = []

    def verdict(score: str | None) -> tuple[str, str]:
        if score is None:
            return "—", t["absent_short"]
        return score, t["passed"] if float(score) >= PASS_MARK else t["not_passed"]

    for component, score in zip(reg.components, row.scores, strict=True):
        lines.append((component.name, *verdict(score)))
    if reg.has_interview:
        lines.append((t["interview"], *verdict(row.interview)))
    return {
        "name": row.name,
        "exam_no": row.exam_no,
        "id_number": row.id_number,
        "lines": lines,
        "outcome": row.outcome,
        "outcome_label": t[row.outcome],
    }


def render_notices(
    reg: Register,
    *,
    lang: str = "zh",
    exam_nos: Sequence[str] | None = None,
    workers: int | None = None,
    per_chunk: int = NOTICES_PER_CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """Score notices (成绩通知单): one page per candidate, all or those asked for.

    ``progress(done, total)`` is called with candidate counts before the first chunk and
    after each one, so a background job can show how far it is (and prove it is alive)."""
    t = catalog(lang)
    chosen = choose(reg, exam_nos)
    lines = _footer_lines(reg, lang)
    published_on = reg.publication.published_at[:10]
    jobs = [
        Job(
            "notices.html",
            lang,
            {
                "title": titled(t, "notice", reg.publication.revision),
                "session": reg.session,
                "published_on": published_on,
                "notices": [_notice(reg, r, lang) for r in chosen[i : i + per_chunk]],
                "footer": footer_css(lang, None, lines),
                "first_page": None,
            },
            len(chosen[i : i + per_chunk]),
        )
        for i in range(0, len(chosen), per_chunk)
    ]
    parts = run_jobs(jobs, workers)
    if progress is not None:
        parts = _reporting(parts, [job.expected_pages or 0 for job in jobs], progress)
    return merge(parts, title=f"{t['notice']} {reg.session.code}")


def _reporting(
    parts: Iterator[bytes], sizes: Sequence[int], progress: Callable[[int, int], None]
) -> Iterator[bytes]:
    """``parts`` unchanged, calling ``progress`` with the candidates done after each one."""
    total, done = sum(sizes), 0
    progress(done, total)
    for part, size in zip(parts, sizes, strict=True):
        done += size
        yield part
        progress(done, total)


# --- statistics -----------------------------------------------------------------------------------


def render_stats(data: StatsInput, *, lang: str = "zh", now: dt.datetime | None = None) -> bytes:
    """The statistics report: marking quality always; results only once published."""
    t = catalog(lang)
    s = statistics(data)
    band_labels = [f"{lo}–{hi}" for lo, hi in itertools.pairwise(BIN_EDGES)]
    pass_band = BIN_EDGES.index(int(PASS_MARK))
    chart_list = [
        (c, charts.bar_chart(band_labels, c.bands, highlight_from=pass_band))
        for c in (s.components or [])
    ]
    total = sum(s.outcomes.values()) if s.outcomes else 0
    lines: list[str] = []
    if data.publication is not None:
        lines = [
            f"{t['results_sha256']}: {data.publication.results_sha256}",
            f"{t['ledger_head']}: {data.publication.ledger_head}",
        ]
    context = {
        "title": t["stats"],
        "session": data.session,
        "s": s,
        "component_names": {c.key: c.name for c in data.components},
        "charts": chart_list,
        "monitoring": charts.monitoring_charts(data.monitoring, t),
        "total": total,
        "state_label": t.get(f"state_{data.state}", data.state),
        "generated": data.session.local(now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M"),
        "footer": None,
        "first_page": 1,
    }
    html = _html("stats.html", lang, **context)
    pages = page_count(html)
    context["footer"] = footer_css(lang, pages, lines)
    pdf, _ = html_to_pdf(_html("stats.html", lang, **context), expected_pages=pages)
    return pdf

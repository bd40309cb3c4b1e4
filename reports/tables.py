"""The register and the statistics as tables: CSV (UTF-8 with BOM, for Excel) and XLSX.

Numbers are numbers (number cells in XLSX, with a format per column: ``reports.workbook``),
text is text; every cell goes through ``reports.cells.safe_cell``, so no name or label can
become a formula. The CSV keeps each number's exact text (``0.657``, ``73.5``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal

from reports.cells import Cell, csv_row
from reports.data import Register, StatsInput
from reports.i18n import catalog, titled
from reports.stats import (
    BIN_EDGES,
    Agreement,
    ComponentStats,
    ExaminerRow,
    GroupRow,
    QuestionRow,
    statistics,
)
from reports.workbook import (
    COUNT,
    MEAN,
    MEASURE,
    SCORE,
    SHARE,
    SIGNED,
    Table,
    Value,
    mark_format,
    to_xlsx,
)

__all__ = ["Table", "register_tables", "stats_tables", "to_csv", "to_xlsx"]


def _f(value: float | None, digits: int = 3) -> Decimal | str:
    """A measure rounded for the office: a number with ``digits`` decimals, or empty."""
    return "" if value is None else Decimal(f"{value:.{digits}f}")


def _score(value: str | None) -> Decimal | str:
    """A published score ("73.5") as the number it is; empty when absent."""
    return Decimal(value) if value else ""


def register_tables(reg: Register, lang: str = "zh") -> list[Table]:
    """One table: the register's rows, then its publication digests as a second table."""
    t = catalog(lang)
    header = (
        t["exam_no"],
        t["name"],
        t["id_number"],
        t["institution"],
        *(c.name for c in reg.components),
        *((t["interview"],) if reg.has_interview else ()),
        t["outcome"],
    )
    rows = [
        (
            r.exam_no,
            r.name,
            r.id_number,
            r.institution,
            *(_score(s) for s in r.scores),
            *((_score(r.interview),) if reg.has_interview else ()),
            t[r.outcome],
        )
        for r in sorted(reg.rows, key=lambda r: r.exam_no)
    ]
    p = reg.publication
    record: list[tuple[str, Value]] = [
        (t["session"], reg.session.code),
        (t["date"], dt.date.fromisoformat(reg.session.date)),
        (t["tally"], p.published_by),
        (t["approver"], p.approved_by),
        (t["published_at"], reg.session.local(p.published_at)),
        (t["results_sha256"], p.results_sha256),
        (t["ledger_head"], p.ledger_head),
    ]
    scores = len(reg.components) + (1 if reg.has_interview else 0)
    formats = (None,) * 4 + (SCORE,) * scores
    return [
        Table(titled(t, "register", reg.publication.revision), header, rows, formats),
        Table(t["attributions"], (t["item"], t["value"]), record),
    ]


def _agreement(a: Agreement) -> tuple[Cell, ...]:
    return (a.pairs, _f(a.exact), _f(a.adjacent), _f(a.qwk), _f(a.mad))


#: The number formats of ``_agreement``'s columns.
_AGREEMENT = (COUNT, SHARE, SHARE, MEASURE, MEAN)


def stats_tables(data: StatsInput, lang: str = "zh") -> list[Table]:
    """The statistics as tables: results (after publication), questions, groups, examiners."""
    t = catalog(lang)
    s = statistics(data)
    tables: list[Table] = []
    if s.outcomes is not None and s.components is not None:
        tables.append(_outcome_table(t, s.outcomes))
        tables.append(_pass_rate_table(t, s.components))
    steps = {(q.component, q.number): (q.max_milli, q.step_milli) for q in data.questions}
    names = {c.key: c.name for c in data.components}
    tables.append(_question_table(t, s.questions, names, dict(data.groups), steps))
    agreement_header = (t["pairs"], t["exact"], t["adjacent"], t["qwk"], t["mad"])
    tables.append(_group_table(t, s.groups, agreement_header))
    tables.append(_examiner_table(t, s.examiners, agreement_header))
    return tables


def _outcome_table(t: Mapping[str, str], outcomes: dict[str, int]) -> Table:
    """How many candidates had each outcome, and their share."""
    total = sum(outcomes.values())
    return Table(
        t["outcomes"],
        (t["outcome"], t["count"], t["share"]),
        [(t[k], v, _f(v / total if total else None)) for k, v in outcomes.items()],
        (None, COUNT, SHARE),
    )


def _pass_rate_table(t: Mapping[str, str], components: Sequence[ComponentStats]) -> Table:
    """Per component: who sat, who passed, mean and spread, and the score bands."""
    bands = tuple(f"{lo}-{hi}" for lo, hi in itertools.pairwise(BIN_EDGES))
    return Table(
        t["pass_rates"],
        (
            t["component"],
            t["sat"],
            t["passed_n"],
            t["pass_rate"],
            t["mean"],
            t["sd"],
            *bands,
        ),
        [
            (
                c.name or t["interview"],
                c.sat,
                c.passed,
                _f(c.pass_rate),
                _f(c.mean, 2),
                _f(c.sd, 2),
                *c.bands,
            )
            for c in components
        ],
        (None, COUNT, COUNT, SHARE, SCORE, SCORE, *(COUNT for _ in bands)),
    )


def _question_table(
    t: Mapping[str, str],
    questions: Sequence[QuestionRow],
    names: Mapping[str, str],
    group_names: Mapping[str, str],
    steps: Mapping[tuple[str, str], tuple[int, int]],
) -> Table:
    """Per question: facility, discrimination, and how often it needed a third or a ruling.
    Its maximum is exact, shown to the question's step (a format per row); its component
    and group by name, as the PDF shows them."""
    scales = [steps.get((q.component, q.number), (round(q.max * 1000), 1000)) for q in questions]
    return Table(
        t["questions"],
        (
            t["component"],
            t["question"],
            t["group"],
            t["max"],
            t["mean"],
            t["facility"],
            t["discrimination"],
            t["responses"],
            t["third_rate"],
            t["arbitration_rate"],
        ),
        [
            (
                names.get(q.component, q.component),
                q.number,
                group_names.get(q.group, q.group),
                Decimal(top) / 1000,
                _f(q.mean),
                _f(q.facility),
                _f(q.discrimination),
                q.responses,
                _f(q.third_rate),
                _f(q.arbitration_rate),
            )
            for q, (top, _step) in zip(questions, scales, strict=True)
        ],
        (
            None,
            None,
            None,
            tuple(mark_format(step) for _top, step in scales),
            MEAN,
            MEASURE,
            MEASURE,
            COUNT,
            SHARE,
            SHARE,
        ),
    )


def _group_table(
    t: Mapping[str, str], groups: Sequence[GroupRow], agreement_header: tuple[str, ...]
) -> Table:
    """Per marking group: how far its examiners agreed, and how often a third or a ruling."""
    return Table(
        t["by_group"],
        (t["group"], t["responses"], *agreement_header, t["third_rate"], t["arbitration_rate"]),
        [
            (
                g.name,
                g.responses,
                *_agreement(g.agreement),
                _f(g.third_rate),
                _f(g.arbitration_rate),
            )
            for g in groups
        ],
        (None, COUNT, *_AGREEMENT, SHARE, SHARE),
    )


def _examiner_table(
    t: Mapping[str, str], examiners: Sequence[ExaminerRow], agreement_header: tuple[str, ...]
) -> Table:
    """Per examiner: marks given, agreement with the other markers, and severity."""
    return Table(
        t["by_examiner"],
        (t["examiner"], t["marks"], *agreement_header, t["severity"]),
        [(e.examiner, e.marks, *_agreement(e.agreement), _f(e.severity)) for e in examiners],
        (None, COUNT, *_AGREEMENT, SIGNED),
    )


def to_csv(tables: Sequence[Table]) -> bytes:
    """UTF-8 with BOM; several tables follow one another, each under its title row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for i, table in enumerate(tables):
        if len(tables) > 1:
            if i:
                writer.writerow(())
            writer.writerow(csv_row((table.title,)))
        writer.writerow(csv_row(table.header))
        writer.writerows(csv_row(row) for row in table.rows)
    return buffer.getvalue().encode("utf-8-sig")

"""The register and the statistics as tables: CSV (UTF-8 with BOM, for Excel) and XLSX.

Numbers are numbers (number cells in XLSX), text is text; every cell goes through
``reports.cells.safe_cell``, so no name or label can become a formula."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook

from reports.cells import Cell, csv_row, safe_cell
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


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: Sequence[tuple[Cell, ...]]


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
    record = [
        (t["session"], reg.session.code),
        (t["tally"], p.published_by),
        (t["approver"], p.approved_by),
        (t["published_at"], p.published_at),
        (t["results_sha256"], p.results_sha256),
        (t["ledger_head"], p.ledger_head),
    ]
    return [
        Table(titled(t, "register", reg.publication.revision), header, rows),
        Table(t["attributions"], ("", ""), record),
    ]


def _agreement(a: Agreement) -> tuple[Cell, ...]:
    return (a.pairs, _f(a.exact), _f(a.adjacent), _f(a.qwk), _f(a.mad))


def stats_tables(data: StatsInput, lang: str = "zh") -> list[Table]:
    """The statistics as tables: results (after publication), questions, groups, examiners."""
    t = catalog(lang)
    s = statistics(data)
    tables: list[Table] = []
    if s.outcomes is not None and s.components is not None:
        tables.append(_outcome_table(t, s.outcomes))
        tables.append(_pass_rate_table(t, s.components))
    tables.append(_question_table(t, s.questions, {c.key: c.name for c in data.components}))
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
    )


def _question_table(
    t: Mapping[str, str], questions: Sequence[QuestionRow], names: Mapping[str, str]
) -> Table:
    """Per question: facility, discrimination, and how often it needed a third or a ruling."""
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
                q.group,
                _f(q.max, 1),
                _f(q.mean),
                _f(q.facility),
                _f(q.discrimination),
                q.responses,
                _f(q.third_rate),
                _f(q.arbitration_rate),
            )
            for q in questions
        ],
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
    )


def _examiner_table(
    t: Mapping[str, str], examiners: Sequence[ExaminerRow], agreement_header: tuple[str, ...]
) -> Table:
    """Per examiner: marks given, agreement with the other markers, and severity."""
    return Table(
        t["by_examiner"],
        (t["examiner"], t["marks"], *agreement_header, t["severity"]),
        [(e.examiner, e.marks, *_agreement(e.agreement), _f(e.severity)) for e in examiners],
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


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """One sheet per table, named by its title."""
    workbook = Workbook(write_only=True)
    for table in tables:
        sheet = workbook.create_sheet(title=table.title[:31])
        sheet.append([safe_cell(v) for v in table.header])
        for row in table.rows:
            sheet.append([safe_cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

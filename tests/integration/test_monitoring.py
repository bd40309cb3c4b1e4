"""Monitoring figures (DESIGN §13) against a recomputation by hand on a tiny session marked
through the real services at known times, with check marks, alarms and suspensions written
directly (their services belong to other parts of the build)."""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.queue.handles import response_handle
from marking.read import monitoring as mon
from marking.store import schema
from marking.store.models import Assignment, ExamSession, MarkingGroup
from marking.store.models.checks import CheckPurpose, MonitoringSnapshot
from tests.integration import factory as f
from tests.integration.marking_helpers import account
from tests.integration.monitoring_support import T0, build

# When the figures are computed in these tests: after everything the fixture marked.
AFTER = T0 + dt.timedelta(days=1)


@pytest.fixture
def marked(db: Session, tmp_path: Path) -> ExamSession:
    return build(db, tmp_path)


def qwk_by_hand(own: list[int], other: list[int], categories: int) -> float:
    """Cohen's quadratic weighted kappa from its textbook definition, by loops."""
    n = len(own)
    seen = [[0.0] * categories for _ in range(categories)]
    for a, b in zip(own, other, strict=True):
        seen[a][b] += 1
    rows = [sum(seen[i]) for i in range(categories)]
    cols = [sum(seen[i][j] for i in range(categories)) for j in range(categories)]
    num = den = 0.0
    for i in range(categories):
        for j in range(categories):
            w = (i - j) ** 2 / (categories - 1) ** 2
            num += w * seen[i][j]
            den += w * rows[i] * cols[j] / n
    return 1 - num / den


def by_key(figures: mon.Monitoring) -> dict[tuple[str, str], mon.ExaminerFigures]:
    return {(r.group, r.examiner): r for r in figures.rows}


def test_figures_agree_with_a_recomputation_by_hand(db: Session, marked: ExamSession) -> None:
    rows = by_key(mon.compute(db, marked))
    assert set(rows) == {(g, e) for g in ("short", "prac") for e in ("e1", "e2", "e3")}
    e1, e2, e3 = rows["short", "e1"], rows["short", "e2"], rows["short", "e3"]
    assert (e1.marks, e2.marks, e3.marks) == (2, 2, 1)
    # Every mark 10 s after the previous one; e3's 3 s after the claim.
    assert (e1.median_seconds, e2.median_seconds, e3.median_seconds) == (10.0, 10.0, 3.0)
    # e1: c1 2 - (4+3)/2 = -1.5, c2 6 - 6 = 0; e2: c1 4 - 2.5 = 1.5; e3: 3 - 3 = 0.
    assert e1.severity == pytest.approx(-0.75)
    assert e2.severity == pytest.approx(0.75)
    assert e3.severity == pytest.approx(0.0)
    # e1's pairs: (2,4) (2,3) (6,6): one equal, none other within a step of 0.5.
    assert (e1.exact, e1.adjacent) == (pytest.approx(1 / 3), pytest.approx(1 / 3))
    assert (e3.exact, e3.adjacent) == (0.0, 0.0)
    # In steps of 0.5 on a 0..12 scale.
    assert e1.qwk == pytest.approx(qwk_by_hand([4, 4, 12], [8, 6, 12], 13))
    assert e2.qwk == pytest.approx(qwk_by_hand([8, 8, 12], [4, 6, 12], 13))
    assert e3.qwk == pytest.approx(qwk_by_hand([6, 6], [4, 8], 13))
    # Seeds: 3 for 3 within, 5 for 3 beyond the tolerance of 1; 回评 2.5 for 2 within.
    assert (e1.seed_marks, e1.seed_within) == (2, 0.5)
    assert (e1.remarks, e1.consistency) == (1, 1.0)
    assert (e2.seed_marks, e2.seed_within, e2.remarks, e2.consistency) == (0, None, 1, 0.0)
    # First marks on c1 (needed a third) and c2 (did not); e3 gave no first mark.
    assert (e1.third_rate, e2.third_rate, e3.third_rate) == (0.5, 0.5, None)
    assert (e1.alarms, e2.alarms, e3.alarms) == ((), ("seed_bias", "seeds_off"), ())
    assert {k: r.status for k, r in rows.items() if k[0] == "prac"} == {
        ("prac", "e1"): "active",
        ("prac", "e2"): "qualifying",
        ("prac", "e3"): "suspended",
    }
    assert rows["prac", "e1"].exact == 1.0 and rows["prac", "e1"].severity == 0.0
    # Bands in tenths of the maximum 6: 2 -> 3, 4 -> 6, 3 -> 5, 6 -> the last.
    assert e1.bands[3] == 1 and e1.bands[9] == 1 and sum(e1.bands) == 2
    short = next(g for g in mon.compute(db, marked).groups if g.key == "short")
    assert short.name == "简答题"
    assert [i for i, n in enumerate(short.bands) for _ in range(n)] == [3, 5, 6, 9, 9]


def test_the_sample_shows_zeros_full_marks_and_fast_ones_by_handle(
    db: Session, marked: ExamSession
) -> None:
    groups = {g.key: g for g in mon.compute(db, marked).groups}
    short = groups["short"].sample
    # Newest first: e3's fast third mark, then e2's and e1's full marks on c2.
    fast, full = ("fast",), ("full",)
    assert [(s.reasons, s.value) for s in short] == [(fast, "3"), (full, "6"), (full, "6")]
    names = [account(db, u).name for u in ("e3", "e2", "e1")]
    assert [s.examiner_name for s in short] == names
    c1 = response_handle(marked, f.response_id(db, marked, "c1 theory"))
    assert short[0].handle == c1 and short[0].seconds == 3.0
    assert [s.reasons for s in groups["prac"].sample] == [("zero",), ("zero",)]


def test_withdrawn_and_corrected_marks(db: Session, marked: ExamSession) -> None:
    from marking.store.models import Mark, MarkCorrection, MarkWithdrawal

    e2 = account(db, "e2")
    rid = f.response_id(db, marked, "c2 theory")
    mark = db.scalars(select(Mark).where(Mark.response_id == rid, Mark.examiner_id == e2.id)).one()
    db.add(
        MarkCorrection(
            mark_id=mark.id,
            seq=1,
            old_value=mark.value,
            value=Decimal("5"),
            reason="笔误",
            by_id=e2.id,
        )
    )
    other = db.scalars(
        select(Mark).where(
            Mark.response_id == f.response_id(db, marked, "c1 skills"), Mark.examiner_id == e2.id
        )
    ).one()
    db.add(MarkWithdrawal(mark_id=other.id, reason="test", by="lead"))
    db.flush()
    rows = by_key(mon.compute(db, marked))
    # c2 theory now 6 (e1) and 5 (e2): e2's severity (1.5 + -1) / 2.
    assert rows["short", "e2"].severity == pytest.approx(0.25)
    assert rows["prac", "e2"].marks == 1


def test_snapshot_round_trip_and_live_status(db: Session, marked: ExamSession) -> None:
    first = mon.monitoring(db, marked, now=AFTER)
    assert db.get(MonitoringSnapshot, marked.id) is not None
    again = mon.monitoring(db, marked)
    assert again.computed_at == first.computed_at  # nothing new: the stored one
    assert again.rows == first.rows
    # A suspension shows at once, whatever the snapshot's age.
    short = next(g for g in marked.groups if g.key == "short")
    db.scalars(
        select(Assignment).where(
            Assignment.group_id == short.id, Assignment.examiner_id == account(db, "e1").id
        )
    ).one().suspended_at = T0
    snapshot = db.get(MonitoringSnapshot, marked.id)
    assert snapshot is not None
    snapshot.took_ms = 10_000  # as if large: never recomputed on the page
    db.flush()
    rows = by_key(mon.monitoring(db, marked))
    assert rows["short", "e1"].status == "suspended"
    assert mon.stale_sessions(db) == []


def test_export_has_the_contract_columns(fresh_db: Any, tmp_path: Path) -> None:
    schema.upgrade(fresh_db.engine)
    with Session(fresh_db.engine) as db:
        code = build(db, tmp_path).code
        db.commit()
    out = tmp_path / "monitoring.csv"
    result = f.run_cli(fresh_db.url, "export", "monitoring", "--session", code, "--out", out)
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert tuple(table[0]) == mon.COLUMNS == (
        "group", "examiner", "marks", "median_seconds", "severity", "exact", "adjacent",
        "qwk", "seed_marks", "seed_within", "remarks", "consistency", "third_rate",
        "status", "alarms",
    )  # fmt: skip
    rows = {(r[0], r[1]): dict(zip(table[0], r, strict=True)) for r in table[1:]}
    assert len(rows) == len(table) - 1 == 6
    assert rows["short", "e2"]["alarms"] == "seed_bias;seeds_off"
    assert rows["short", "e1"]["seed_within"] == "0.500"
    assert rows["short", "e1"]["severity"] == "-0.750"
    assert rows["short", "e1"]["median_seconds"] == "10.0"
    assert rows["prac", "e3"]["status"] == "suspended"
    assert rows["short", "e3"]["third_rate"] == ""


def test_nothing_of_a_candidate(db: Session, marked: ExamSession) -> None:
    from marking.store.models import Script

    data = str(mon.to_json(mon.compute(db, marked)))
    codes = db.scalars(select(Script.code).where(Script.session_id == marked.id)).all()
    assert codes and not any(code in data for code in codes)
    assert "theory" not in data and "skills" not in data  # no response text either
    groups = db.scalars(select(MarkingGroup).where(MarkingGroup.session_id == marked.id)).all()
    assert groups


def test_the_statistics_report_gains_the_same_figures(db: Session, marked: ExamSession) -> None:
    import io

    from pypdf import PdfReader

    from marking.read.reportdata import stats_data
    from reports.render import render_stats

    data = stats_data(db, marked)
    rows = by_key(mon.compute(db, marked))
    short = next(g for g in data.monitoring if g.name == "简答题")
    e1 = account(db, "e1")
    shown = next(e for e in short.examiners if e.examiner.startswith(e1.name))
    assert (shown.severity, shown.qwk, shown.seed_within) == (
        rows["short", "e1"].severity,
        rows["short", "e1"].qwk,
        rows["short", "e1"].seed_within,
    )
    text = "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(render_stats(data, lang="zh"))).pages
    )
    squeezed = re.sub(r"\s", "", text)  # a narrow column breaks its words over lines
    assert "质量控制监控" in text and "样卷系统性偏差" in squeezed and "-0.75" in text
    # QWK named in words and explained, in the monitoring table as in the others.
    assert squeezed.count("加权Kappa(QWK)") >= 4, squeezed
    assert "1为完全一致，0与随机无异" in squeezed


def test_marks_withdrawn_after_the_snapshot_leave_the_figures(
    db: Session, marked: ExamSession
) -> None:
    """A suspension (or a late conflict) withdraws marks without making a newer one: the
    stored figures are computed again, not shown with the withdrawn marks still counted."""
    from marking.publication.late_conflicts import withdraw_marks
    from marking.store.models import Mark, Response

    before = by_key(mon.monitoring(db, marked, now=AFTER))
    e2 = account(db, "e2")
    hits = db.execute(
        select(Mark.id, Response.script_id)
        .join(Response, Response.id == Mark.response_id)
        .where(Mark.examiner_id == e2.id, Response.text == "c1 skills")
    ).all()
    assert before["prac", "e2"].marks == 2 and len(hits) == 1
    withdraw_marks(db, marked, [tuple(h) for h in hits], reason="暂停", actor="lead",
                   exclude_authors=False)  # fmt: skip
    after = by_key(mon.monitoring(db, marked))
    assert after["prac", "e2"].marks == 1


def test_a_seed_marked_after_the_snapshot_makes_it_stale(db: Session, marked: ExamSession) -> None:
    """Seed and 回评 figures move with checks, which are not marks: a check marked after the
    figures were computed makes them stale as a new mark would."""
    from tests.integration.monitoring_support import check

    first = by_key(mon.monitoring(db, marked, now=AFTER))
    snapshot = db.get(MonitoringSnapshot, marked.id)
    assert snapshot is not None and not mon.is_stale(db, marked, snapshot)
    seeds_before = first["short", "e3"].seed_marks
    check(db, marked, "e3", CheckPurpose.SEED, "4", "1", at=100_000)  # a day after AFTER
    db.flush()
    assert mon.is_stale(db, marked, snapshot)
    assert by_key(mon.monitoring(db, marked))["short", "e3"].seed_marks == seeds_before + 1

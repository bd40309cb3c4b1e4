"""`blindmark export`: the paper as Excel-ready CSV, scores only after publication."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.integration.cli.cli_support import CODE, Run, ok, refused

PAPER_COLUMNS = "component,question,bank_item,type,max,step,tolerance,group,marks_required"

PAPER_TOML = """\
[session]
code = "CLI-01"
occupation = "电工"
occupation_code = "6-31-01-03"
level = 3
date = "2026-12-05"
station = "GD-0107"

[[groups]]
key = "short"
name = "简答题"
marks_required = 3

[[components]]
key = "theory"

[[components.questions]]
number = "1"
bank_item = "DG3-0001"
type = "single_choice"
max = 1
answer = "B"

[[components.questions]]
number = "2"
bank_item = "DG3-0002"
type = "true_false"
max = 0.5
answer = "对"

[[components.questions]]
number = "3"
bank_item = "DG3-0003"
type = "fill_blank"
max = 2
answer = ["接地", "接零"]

[[components.questions]]
number = "41"
bank_item = "DG3-0041"
type = "short_answer"
max = 7.5
step = 0.5
tolerance = 1.5
group = "short"

[[components]]
key = "skills"

[[components.questions]]
number = "1"
bank_item = "DG3S-0001"
type = "practical"
max = 20
tolerance = 3

[[components.questions]]
number = "2"
bank_item = "DG3S-0002"
type = "calculation"
max = 10.0
step = 0.25
tolerance = 2
"""


def test_export_paper_writes_the_paper_as_excel_ready_csv(ready: Run, tmp_path: Path) -> None:
    (tmp_path / "paper.toml").write_text(PAPER_TOML, encoding="utf-8")
    ok(ready("session", "create", tmp_path / "paper.toml"))
    out = tmp_path / "paper.csv"

    output = ok(ready("export", "paper", "--session", CODE, "--out", out))

    assert output.strip() == f"wrote {out} (6 rows)"
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert ",".join(rows[0]) == PAPER_COLUMNS
    assert rows[1:] == [
        ["theory", "1", "DG3-0001", "single_choice", "1", "1", "", "", ""],
        ["theory", "2", "DG3-0002", "true_false", "0.5", "0.5", "", "", ""],
        ["theory", "3", "DG3-0003", "fill_blank", "2", "2", "", "", ""],
        ["theory", "41", "DG3-0041", "short_answer", "7.5", "0.5", "1.5", "short", "3"],
        ["skills", "1", "DG3S-0001", "practical", "20", "1", "3", "practical", "2"],
        ["skills", "2", "DG3S-0002", "calculation", "10", "0.25", "2", "calculation", "2"],
    ]


@pytest.mark.parametrize("what", ["marks", "finals", "results"])
def test_export_of_scores_by_script_is_refused_before_publication(
    ready: Run, session_toml: Path, tmp_path: Path, what: str
) -> None:
    """R8: no scores or marking details before the session is published as a whole. DESIGN
    §11 marks only ``results`` as after publication; marks and finals name scripts and
    their scores just the same, so the command line refuses them too."""
    ok(ready("session", "create", session_toml))
    out = tmp_path / f"{what}.csv"

    output = refused(ready("export", what, "--session", CODE, "--out", out), 4)

    assert "not published" in output and "(R8)" in output
    assert not out.exists()

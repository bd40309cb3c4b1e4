"""`blindmark sheets`: the PDF and the layout file written, the serials recorded, and
refusals as exit codes with nothing recorded."""

from __future__ import annotations

import json
from pathlib import Path

from pypdf import PdfReader

from marking.paper.layout import FORMAT
from marking.store.models import IssuedSheet
from tests.conftest import FreshDatabase
from tests.integration.cli.cli_support import CODE, Run, count, ok, refused

SHEETS = ("sheets", "--session", CODE, "--component", "theory")


def test_sheets_writes_the_pdf_and_the_layout_and_records_the_serials(
    ready: Run, session_toml: Path, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    ok(ready("session", "create", session_toml))
    out, layout = tmp_path / "out" / "sheets.pdf", tmp_path / "layout.json"
    said = ok(ready(*SHEETS, "--count", 2, "--out", out, "--layout", layout, "--workers", 1))
    document = json.loads(layout.read_text(encoding="utf-8"))
    pages = len(document["pages"])
    assert document["format"] == FORMAT and document["component"] == "theory"
    assert len(PdfReader(out).pages) == 2 * pages
    assert f"wrote {out}: 2 set(s) of {pages} page(s) of theory" in said
    assert count(fresh_db.engine, IssuedSheet) == 2
    ok(ready(*SHEETS, "--count", 1, "--out", out, "--workers", 1))
    assert count(fresh_db.engine, IssuedSheet) == 3


def test_sheets_refusals_become_exit_codes_and_record_nothing(
    ready: Run, session_toml: Path, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    out = tmp_path / "sheets.pdf"
    assert "no session with code" in refused(ready(*SHEETS, "--count", 1, "--out", out), 3)
    ok(ready("session", "create", session_toml))
    other = ("sheets", "--session", CODE, "--component", "interview", "--count", 1)
    assert "no component 'interview'" in refused(ready(*other, "--out", out), 3)
    assert "must be 1 to 2000 sets, not 0" in refused(ready(*SHEETS, "--count", 0, "--out", out), 2)
    assert "not 2001" in refused(ready(*SHEETS, "--count", 2001, "--out", out), 2)
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    said = refused(ready(*SHEETS, "--count", 1, "--out", blocked / "x.pdf", "--workers", 1), 1)
    assert "cannot write" in said
    assert not out.exists() and count(fresh_db.engine, IssuedSheet) == 0

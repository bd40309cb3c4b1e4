"""Reports from the database: a published demo session, and one still being marked."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.cli import main
from marking.demo.demo import run_demo
from marking.errors import StateError
from marking.read.reportdata import gather, register_data, stats_data
from marking.setup.sessions import get_session
from marking.store.db import transaction
from marking.store.models import Account, Publication, Result
from reports import render
from reports.data import Register, StatsInput
from reports.produce import produce
from tests.conftest import FreshDatabase
from tests.integration import factory as f


def text_of(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


class Demo:
    def __init__(self, database: FreshDatabase, codes: list[str]) -> None:
        self.database = database
        self.l3, self.l2 = codes

    def session(self) -> Session:
        return Session(self.database.engine)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """Both demo sessions (level 3 and level 2), published, in a database of their own."""
    folder = tmp_path_factory.mktemp("reports-demo")
    database = FreshDatabase(folder)
    try:
        codes = run_demo(
            database.engine, candidates=24, seed=11, out_dir=folder / "out", echo=lambda _s: None
        )
        yield Demo(database, codes)
    finally:
        database.drop()


def test_register_data_is_the_published_results_with_attributions(demo: Demo) -> None:
    with transaction(demo.database.engine) as db:
        exam = get_session(db, demo.l3)
        reg = register_data(db, exam)
        # The demo's level-3 session has an appeal revision: the register shows the latest.
        record = db.scalars(
            select(Publication)
            .where(Publication.session_id == exam.id)
            .order_by(Publication.revision.desc())
            .limit(1)
        ).one()
        results = db.scalars(
            select(Result).where(Result.session_id == exam.id, Result.revision == record.revision)
        ).all()
        examiners = set(
            db.scalars(select(Account.username).where(Account.username.like("exam%"))).all()
        )
    assert [r.exam_no for r in reg.rows] == sorted(r.exam_no for r in results)
    by_no = {r.exam_no: r for r in results}
    for row in reg.rows:
        stored = by_no[row.exam_no]
        assert (row.name, row.id_number, row.outcome) == (
            stored.name,
            stored.id_number,
            stored.outcome,
        )
        assert row.scores == tuple(
            (stored.components.get(c.key) or {}).get("score") for c in reg.components
        )
    assert reg.publication.results_sha256 == record.results_sha256
    assert reg.publication.ledger_head == record.ledger_head
    assert reg.publication.published_by.endswith(f"(office-{demo.l3[:-3].lower()})")
    assert reg.groups and all(g.markers and g.scheme_approved_by for g in reg.groups)
    named = {m.rsplit("(", 1)[1].rstrip(")") for g in reg.groups for m in g.markers}
    assert named <= examiners
    assert not reg.has_interview


def test_register_pdf_of_the_demo_session(demo: Demo) -> None:
    with transaction(demo.database.engine) as db:
        reg = register_data(db, get_session(db, demo.l2))
    assert reg.has_interview and any(r.interview for r in reg.rows)
    pdf = render.render_register(reg, paging=render.Paging(workers=1))
    text = text_of(pdf)
    for row in reg.rows:
        assert row.name in text and row.exam_no in text
        if row.interview:
            assert row.interview in text
    assert "综合评审" in text
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    for x, page in enumerate(pages, start=1):
        assert f"第 {x} 页，共 {len(pages)} 页" in page
        assert reg.publication.results_sha256 in page and reg.publication.ledger_head in page


def test_statistics_after_publication_name_no_candidate(demo: Demo) -> None:
    with transaction(demo.database.engine) as db:
        exam = get_session(db, demo.l3)
        data = stats_data(db, exam)
        names = db.scalars(select(Result.name).where(Result.session_id == exam.id)).all()
    assert isinstance(data, StatsInput) and data.published
    assert sum(len(i.finals) for i in data.items) > 0
    text = text_of(produce("stats", data))
    assert "成绩统计" in text and "各考评员一致性与宽严" in text
    assert "<svg" not in text  # charts drawn, not printed as markup
    for name in names:
        assert name not in text
    book = load_workbook(io.BytesIO(produce("stats", data, fmt="xlsx", lang="en")))
    assert {"Outcomes", "Questions", "Agreement by marking group"} <= set(book.sheetnames)
    outcomes = {row[0]: row[1] for row in book["Outcomes"].iter_rows(min_row=2, values_only=True)}
    with transaction(demo.database.engine) as db:
        stored = db.scalars(
            select(Result.outcome).where(
                Result.session_id == get_session(db, demo.l3).id, Result.revision == 2
            )
        ).all()
    assert outcomes["Pass"] == stored.count("pass")  # a number cell, not text


def test_before_publication_only_the_marking_quality_is_available(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "REP-01", n=6)
    f.mark_all(db, tiny.exam, ["e1", "e2", "e3"])
    for kind, what in (
        ("register", "score register"),
        ("notices", "score notice"),
        ("passlist", "pass list"),
    ):
        with pytest.raises(StateError, match=f"the {what} names candidates .* after publication"):
            gather(db, tiny.exam, kind)
    data = gather(db, tiny.exam, "stats")
    assert isinstance(data, StatsInput) and not data.published and not data.results
    text = text_of(produce("stats", data))
    assert "成绩尚未发布" in text
    assert "考评员e1 (e1)" in text
    # Groups by name everywhere, the question analysis too (it printed the keys short, prac).
    assert re.search(r"\b(short|prac)\b", text) is None, text
    for c in tiny.candidates:
        assert c.name not in text and c.exam_no not in text and c.id_number not in text


# --- the command line -----------------------------------------------------------------------------


def run(demo: Demo, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--db", demo.database.url, *args])
    return result.exit_code, result.output


def test_cli_writes_each_report(demo: Demo, tmp_path: Path) -> None:
    with transaction(demo.database.engine) as db:
        reg = gather(db, get_session(db, demo.l3), "register")
    assert isinstance(reg, Register)
    chosen = [reg.rows[3].exam_no, reg.rows[0].exam_no]
    out = tmp_path / "notices.pdf"
    code, output = run(
        demo, "report", "notices", "--session", demo.l3, "--out", str(out),
        "--candidates", ",".join(chosen), "--workers", "1",
    )  # fmt: skip
    assert code == 0, output
    pages = PdfReader(out).pages
    assert [chosen[i] in pages[i].extract_text() for i in range(2)] == [True, True]
    assert len(pages) == 2

    csv_out = tmp_path / "register.csv"
    code, output = run(demo, "report", "register", "--session", demo.l3, "--out", str(csv_out))
    assert code == 0, output
    assert csv_out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert csv_out.read_text(encoding="utf-8-sig").count("\n") >= len(reg.rows) + 1

    pdf_out = tmp_path / "en" / "passlist.pdf"
    code, output = run(
        demo, "report", "passlist", "--session", demo.l3, "--out", str(pdf_out),
        "--lang", "en", "--workers", "1",
    )  # fmt: skip
    assert code == 0, output
    assert "Pass list" in PdfReader(pdf_out).pages[0].extract_text()


def test_cli_refuses_before_publication_and_bad_options(demo: Demo, tmp_path: Path) -> None:
    toml = tmp_path / "session.toml"
    toml.write_text(f.tiny_toml("REP-DRAFT"), encoding="utf-8")
    assert run(demo, "session", "create", str(toml))[0] == 0
    out = tmp_path / "r.pdf"
    code, output = run(demo, "report", "register", "--session", "REP-DRAFT", "--out", str(out))
    assert code == StateError.exit_code
    assert "not published" in output and "R8" in output
    assert not out.exists()
    code, output = run(
        demo, "report", "notices", "--session", demo.l3, "--out", str(tmp_path / "n.csv")
    )
    assert code == 8 and "PDF only" in output
    code, output = run(
        demo, "report", "register", "--session", demo.l3, "--out", str(out), "--candidates", "1"
    )
    assert code == 2 and "notices only" in output
    code, output = run(
        demo, "report", "notices", "--session", demo.l3, "--out", str(out), "--candidates", "nope"
    )
    assert code == 8 and "no published result for exam number(s): nope" in output


def test_cli_reads_a_gbk_candidates_file_and_names_a_folder_it_cannot_write(
    demo: Demo, tmp_path: Path
) -> None:
    gbk = tmp_path / "chosen.txt"
    gbk.write_bytes("电工\n".encode("gbk"))  # read as GB18030, not a decoding traceback
    code, output = run(
        demo, "report", "notices", "--session", demo.l3, "--out", str(tmp_path / "n.pdf"),
        "--candidates-file", str(gbk),
    )  # fmt: skip
    assert code == 8 and "no published result for exam number(s): 电工" in output
    blocked = tmp_path / "a-file"
    blocked.write_text("", encoding="utf-8")
    code, output = run(
        demo, "report", "register", "--session", demo.l3, "--out", str(blocked / "r.pdf")
    )
    assert code == 1 and "Traceback" not in output and "a-file" in output

"""The paper path end to end through the command line (issue 11, Proof): print sheets, fill
them with the seeded generator, degrade and bundle them, scan, resolve quarantine from the
generator's truth, mark, publish, export — the published results equal what the generator
wrote. Then the same reading through `scan --queue` and a real `blindmark worker` killed
mid-file: a restarted worker finishes it, no page taken twice, no half sheet.

Runs on the pass's database (SQLite, or PostgreSQL when BLINDMARK_TEST_DATABASE_URL is set).
Only the generator (the candidates' pens and the scanner) and the examiners' marks (the
engine's ``claim``/``submit_mark``, as the other end-to-end tests mark) are not commands.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from anonymizer import keys
from marking.cli import main
from marking.demo.sheetfill import (
    CLEAN_MIX,
    Corpus,
    Degrade,
    Mix,
    SheetTruth,
    file_bytes,
    make_corpus,
    source_from_exam,
    write_pdf,
)
from marking.demo.synthetic import roster
from marking.queue.claims import Claimed
from marking.setup.sessions import get_session
from marking.store.db import transaction
from marking.store.models import (
    IntakeBatch,
    IssuedSheet,
    Response,
    ScanBatch,
    ScanBatchState,
    ScanFile,
    ScanFileState,
    ScanPage,
    ScanPageState,
    ScanSheet,
    ScanSheetState,
    Script,
)
from tests.conftest import FreshDatabase
from tests.integration import factory as f
from tests.jobs.workers import LEASE, Workers

PASSPHRASE = "correct horse battery staple"
PASSWORD = "e2e-Pa55word-不可猜"

# Objective questions (scored from the key) and two answer boxes (examiners).
KEYS = {"1": ("single_choice", "A", 2), "2": ("multiple_choice", "BD", 3),
        "3": ("true_false", "F", 1), "4": ("single_choice", "C", 2)}  # fmt: skip
BOXES = {"5": ("short_answer", 6), "6": ("calculation", 4)}
COMPONENT_MAX = sum(m for *_, m in KEYS.values()) + sum(m for _, m in BOXES.values())

HEADER = """\
[session]
code = "{code}"
occupation = "电工"
occupation_code = "6-31-01-03"
level = 3
date = "2026-12-05"
station = "GD-0107"

[[groups]]
key = "short"
name = "简答题"
marks_required = 2

[[components]]
key = "theory"
name = "理论知识"
"""

# A few doubtful rows, smudged exam numbers, a 缺考 sheet and blank boxes (seed 3 has them
# all: the test checks it); light degradation a real scanner gives. No crossed-out bubbles:
# the reader takes a filled bubble crossed out with an X as chosen, silently (a row truly
# "C" read "BC"), which is the accuracy work's to fix, not this flow's to hide in a score.
BUSY = Mix(faint=0.06, crossed=0, double=0.04, blank_row=0.05, blank_box=0.25,
           absent=0.1, violation=0, smudged_number=0.12)  # fmt: skip
LIGHT = Degrade(dpis=(200,), upside_down=0.2, skew=3, scale=0.02, noise=4, blur=0.05,
                jpeg=0.2, colour=0.1, black_and_white=0.1)  # fmt: skip


def session_toml(code: str, *, lines: int = 3) -> str:
    parts = [HEADER.format(code=code)]
    for number, (qtype, answer, top) in KEYS.items():
        parts.append(
            f'[[components.questions]]\nnumber = "{number}"\nbank_item = "E-{number}"\n'
            f'type = "{qtype}"\nmax = {top}\nanswer = "{answer}"\n'
        )
    for number, (qtype, top) in BOXES.items():
        parts.append(
            f'[[components.questions]]\nnumber = "{number}"\nbank_item = "E-{number}"\n'
            f'type = "{qtype}"\nmax = {top}\ntolerance = 1\ngroup = "short"\nlines = {lines}\n'
        )
    return "\n".join(parts)


@pytest.fixture
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Key files derived with a tiny Argon2id cost; the format and checks stay the same."""
    real = keys.KdfParams
    monkeypatch.setattr(keys, "KdfParams", lambda: real(iterations=1, lanes=1, memory_cost=8))


@dataclass
class Office:
    """The command line on one database, and the files the office keeps."""

    database: FreshDatabase
    tmp: Path
    code: str

    def __call__(self, *args: object, stdin: str | None = None) -> str:
        result: Result = CliRunner().invoke(
            main,
            ["--db", self.database.url, *map(str, args)],
            input=stdin,
            env={"BLINDMARK_KEY_PASSPHRASE": PASSPHRASE},
            prog_name="blindmark",
        )
        assert result.exit_code == 0, f"blindmark {' '.join(map(str, args))}:\n{result.output}"
        return result.output

    @property
    def key_file(self) -> Path:
        return self.tmp / "session.key"


def set_up(database: FreshDatabase, tmp: Path, code: str, *, lines: int = 3) -> Office:
    """init, accounts, session, key, examiners: the office's day before the exam."""
    office = Office(database, tmp, code)
    office("init")
    for name, role in (("office", "office"), ("director", "director"), ("lead", "lead")):
        office("user", "add", name, "--role", role, "--password-stdin", stdin=f"{PASSWORD}\n")
    (tmp / "session.toml").write_text(session_toml(code, lines=lines), encoding="utf-8")
    office("session", "create", tmp / "session.toml")
    office("keys", "init", "--session", code, "--key-file", office.key_file)
    # The lead account's certificate too: a lead is a senior examiner (DESIGN §14).
    f.write_csv(
        tmp / "examiners.csv",
        ("username", "name", "certificate_no", "certificate_expires", "grade", "scope",
         "institution"),
        [(u, f"考评员{u}", f"C-{u}", "2029-12-31", grade, f"{f.OCCUPATION}:3", "站")
         for u, grade in (("e1", "examiner"), ("e2", "examiner"), ("lead", "senior"))],
    )  # fmt: skip
    office("examiners", "import", tmp / "examiners.csv")
    return office


@dataclass
class Room:
    """The room's roster (CSV written) and the sheets filled for it."""

    csv: Path
    people: dict[str, tuple[str, str]]  # exam number -> (name, id number)
    corpus: Corpus


def print_and_fill(office: Office, n: int, *, seed: int, mix: Mix, degrade: Degrade) -> Room:
    """`blindmark sheets` for n sets, the room's roster, the sets filled by the generator."""
    out = office("sheets", "--session", office.code, "--component", "theory", "--count", n,
                 "--out", office.tmp / "sheets.pdf", "--workers", 1)  # fmt: skip
    assert f"wrote {office.tmp / 'sheets.pdf'}: {n} set(s)" in out
    people = roster(n, seed=seed)
    numbers = [c.exam_no[2:] for c in people]  # the sheets' 10-digit grid
    path = f.write_csv(
        office.tmp / "room-1.csv",
        ("exam_no", "name", "id_number", "institution"),
        [(num, c.name, c.id_number, c.institution) for num, c in zip(numbers, people, strict=True)],
    )
    with transaction(office.database.engine) as db:
        exam = get_session(db, office.code)
        serials = db.scalars(
            select(IssuedSheet.serial).where(IssuedSheet.session_id == exam.id)
            .order_by(IssuedSheet.id)
        ).all()  # fmt: skip
        source = source_from_exam(exam, "theory")
    assert len(serials) == n
    corpus = make_corpus(source, numbers, seed=seed, serials=serials, mix=mix, degrade=degrade)
    byno = {num: (c.name, c.id_number) for num, c in zip(numbers, people, strict=True)}
    return Room(path, byno, corpus)


def expected_scores(sheet: SheetTruth) -> tuple[Decimal, Decimal]:
    """(objective, total) the truth is worth: rows scored by the key, and each box that has
    ink given its maximum by both examiners (a blank box 0)."""
    objective = Decimal(0)
    for row in sheet.rows:
        qtype, key, top = KEYS[row.question]
        same = set(row.value) == set(key) if qtype == "multiple_choice" else row.value == key
        objective += top if same else 0
    written = sum((Decimal(BOXES[b.question][1]) for b in sheet.boxes if not b.blank), Decimal(0))
    return objective, objective + written


def resolution(item: list[str], corpus: Corpus) -> tuple[str, str]:
    """The option and value that settle a quarantine line, read off the truth."""
    _id, kind, _batch, serial, _file, _page, question, _reason = item
    sheet = corpus.sheet(serial)
    if kind in ("exam_number", "off_roster", "claimed_twice"):
        return "--exam-no", sheet.exam_number.intended
    if kind == "bubble_row":
        return "--value", sheet.row(question).value or "-"
    if kind == "absent":
        return "--value", "yes" if sheet.absent else "no"
    raise AssertionError(f"quarantine item not expected from these sheets: {item}")


def mark_boxes(database: FreshDatabase, code: str) -> None:
    """Both examiners mark every box: its maximum if it has ink, 0 if blank (they agree)."""
    with transaction(database.engine) as db:
        exam = get_session(db, code)

        def value(item: Claimed, _user: str) -> Decimal:
            response = db.get(Response, item.response_id)
            assert response is not None
            return Decimal(0) if response.blank else item.max

        f.mark_all(db, exam, ["e1", "e2"], value)


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def one_decimal(total: Decimal) -> Decimal:
    return (total * 100 / COMPONENT_MAX).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def bundle(room: Room, folder: Path) -> list[Path]:
    """The pile as a scanner leaves it: a PDF of all pages but the last, which is a PNG."""
    pages = list(room.corpus.images())
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / "bundle.pdf"
    assert write_pdf(pages[:-1], pdf) == len(pages) - 1
    png = folder / "last-page.png"
    png.write_bytes(file_bytes(pages[-1], "png"))
    return [pdf, png]


def test_print_fill_scan_resolve_mark_publish_gives_what_the_generator_wrote(
    fresh_db: FreshDatabase, tmp_path: Path, fast_kdf: None
) -> None:
    code = "E2E-SCAN"
    office = set_up(fresh_db, tmp_path, code)
    room = print_and_fill(office, 12, seed=3, mix=BUSY, degrade=LIGHT)
    sheets = room.corpus.sheets
    absent = [s for s in sheets if s.absent]
    assert len(absent) == 1, "the corpus has one 缺考 sheet"
    assert any(s.exam_number.read is None for s in sheets), "and a smudged exam number"
    assert sum(not r.clear for s in sheets for r in s.rows) >= 2, "and doubtful rows"
    assert any(b.blank for s in sheets if not s.absent for b in s.boxes), "and blank boxes"

    scanned = office("scan", "--session", code, "--candidates", room.csv,
                     *bundle(room, tmp_path / "scans"))  # fmt: skip
    batch = int(re.search(r"scan batch (\d+): 2 file\(s\) queued", scanned).group(1))  # type: ignore[union-attr]
    assert "bundle.pdf: 11 page(s), done" in scanned and "last-page.png: 1 page(s), done" in scanned

    listed = office("quarantine", "list", "--session", code)
    items = [line.split("\t") for line in listed.splitlines()]
    assert items, "the smudged exam number at least is in quarantine"
    assert {i[1] for i in items} >= {"exam_number"}
    for item in items:
        assert item[2] == str(batch) and item[3] != "-"  # each names its batch and serial
        option, given = resolution(item, room.corpus)
        office("quarantine", "resolve", "--session", code, item[0], option, given)
    assert office("quarantine", "list", "--session", code) == ""
    with transaction(fresh_db.engine) as db:
        closed = db.get(ScanBatch, batch)
        assert closed is not None and closed.state is ScanBatchState.CLOSED  # by itself
    kinds = [i[1] for i in items]
    n, exam_items, rows = len(sheets), kinds.count("exam_number"), kinds.count("bubble_row")
    tally = f"  {batch} theory closed 2/2 {n} {n} {n - 1} 0/{exam_items} {rows} {2 * n} 0"
    assert tally in office("status", "--session", code).splitlines()

    office("assign", "--session", code, "--group", "short", "--examiners", "e1,e2",
           "--lead", "lead")  # fmt: skip
    office("scheme", "approve", "--session", code, "--group", "short", "--by", "lead")
    mark_boxes(fresh_db, code)
    office("approve", "--session", code, "--by", "director", "--password-stdin",
           stdin=f"{PASSWORD}\n")  # fmt: skip
    published = office("publish", "--session", code, "--by", "office", "--approved-by",
                       "director", "--key-file", office.key_file)  # fmt: skip
    assert f"session {code} published: {len(sheets)} candidates" in published
    office("export", "results", "--session", code, "--out", tmp_path / "results.csv")
    office("export", "finals", "--session", code, "--out", tmp_path / "finals.csv")

    results = {r["exam_no"]: r for r in read_csv(tmp_path / "results.csv")}
    finals: dict[str, dict[str, Decimal]] = {}
    for r in read_csv(tmp_path / "finals.csv"):
        finals.setdefault(r["script_code"], {})[r["question"]] = Decimal(r["final"])
    assert set(results) == set(room.people), "nobody extra, nobody lost"
    assert len(finals) == len(sheets) - 1, "a script for every sheet but the 缺考 one"
    for sheet in sheets:
        number = sheet.exam_number.intended
        row = results[number]
        assert (row["name"], row["id_number"]) == room.people[number]
        if sheet.absent:
            assert (row["outcome"], row["theory_code"], row["theory_score"]) == ("absent", "", "")
            continue
        objective, total = expected_scores(sheet)
        got = finals[row["theory_code"]]
        rows = [(r.question, r.value, r.style) for r in sheet.rows]
        assert sum(got[q] for q in KEYS) == objective, (number, got, rows)
        assert sum(got.values()) == total, (number, got, sheet.boxes)
        assert Decimal(row["theory_score"]) == one_decimal(total), number
        assert row["outcome"] == ("pass" if one_decimal(total) >= 60 else "fail")
    assert "ledger intact" in office("verify", "--session", code)


# --- the same reading through the jobs: `scan --queue` and a real worker, killed ----------------


@pytest.fixture
def workers(fresh_db: FreshDatabase, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(fresh_db.url, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def file_state(database: FreshDatabase) -> tuple[ScanFileState, int, int]:
    """(state, pages done, pages taken) of the only scan file."""
    with transaction(database.engine) as db:
        file = db.scalars(select(ScanFile)).one()
        taken = db.scalar(select(func.count()).select_from(ScanPage)) or 0
        return file.state, file.pages_done, taken


def wait_until(what: str, ok: object, workers: Workers, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ok():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError(f"waited {timeout} s for {what}; workers:\n{workers.logs()}")


def no_half_sheet(database: FreshDatabase, pages_per_sheet: int) -> None:
    """A sheet is complete exactly when all its pages are in; no page is in twice."""
    with transaction(database.engine) as db:
        numbers = db.execute(select(ScanPage.file_id, ScanPage.number)).all()
        assert len(numbers) == len(set(numbers)), "a page taken twice"
        for sheet in db.scalars(select(ScanSheet)):
            pages = db.scalars(select(ScanPage.page).where(ScanPage.sheet_id == sheet.id)).all()
            assert len(pages) == len(set(pages))
            whole = len(pages) == pages_per_sheet
            assert (sheet.state is not ScanSheetState.GATHERING) == whole, (sheet.serial, pages)


def test_a_worker_killed_mid_file_is_finished_by_a_restarted_one_with_no_page_twice(
    fresh_db: FreshDatabase, tmp_path: Path, fast_kdf: None, workers: Workers
) -> None:
    code = "E2E-JOBS"
    office = set_up(fresh_db, tmp_path, code, lines=14)  # sets of several pages: halves could show
    room = print_and_fill(office, 6, seed=5, mix=CLEAN_MIX, degrade=LIGHT)
    per_sheet = len(room.corpus.source.layout.pages)
    assert per_sheet > 1
    pdf = tmp_path / "bundle.pdf"
    total = write_pdf(room.corpus.images(), pdf)
    queued = office("scan", "--session", code, "--candidates", room.csv, "--queue", pdf)
    assert "1 file(s) queued" in queued
    assert file_state(fresh_db)[:2] == (ScanFileState.QUEUED, 0)  # nothing read in-process

    first = workers.start()
    wait_until("the worker to be mid-file", lambda: file_state(fresh_db)[1] >= 1, workers)
    workers.kill(first)
    state, done, taken = file_state(fresh_db)
    assert state is ScanFileState.READING and 1 <= done < total, (state, done, total)
    assert taken == done  # each committed page with its progress, nothing more
    no_half_sheet(fresh_db, per_sheet)
    with transaction(fresh_db.engine) as db:
        assert db.scalar(select(func.count()).select_from(Script)) == 0  # scripts wait for close

    time.sleep(LEASE + 0.3)  # the dead worker's lease lapses
    workers.start()
    wait_until(
        "the restarted worker to finish",
        lambda: file_state(fresh_db)[0] is ScanFileState.DONE,
        workers,
    )
    state, done, taken = file_state(fresh_db)
    assert (done, taken) == (total, total), workers.logs()
    no_half_sheet(fresh_db, per_sheet)
    with transaction(fresh_db.engine) as db:
        assert {p.state for p in db.scalars(select(ScanPage))} == {ScanPageState.TAKEN}
        batch = db.scalars(select(ScanBatch)).one()
        assert batch.state is ScanBatchState.CLOSED, "nothing to decide: closed by itself"
        intake = db.get(IntakeBatch, batch.intake_batch_id)
        assert intake is not None and intake.script_count == len(room.corpus.sheets)
        sheets = db.scalars(select(ScanSheet)).all()
        assert len(sheets) == len(room.corpus.sheets)
        assert {s.state for s in sheets} == {ScanSheetState.TAKEN}
        assert db.scalar(select(func.count()).select_from(Script)) == len(sheets)
    tally = office("status", "--session", code)
    assert re.search(rf"\b{total}\b", tally), tally  # the pages received

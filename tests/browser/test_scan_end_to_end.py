"""The paper path end to end in a real browser, in Chinese (issue 11's proof): the office
prints the answer sheets with its 答题卡 button, the seeded generator fills and lightly
degrades them (a doubtful bubble row, a smudged exam number, a 缺考 sheet, blank boxes),
the office uploads the bundle with the room's roster through the 答题卡扫描 form, watches
its progress, settles the quarantine from the generator's truth and sees the batch close;
two examiners mark every answer box with the keyboard (full marks for written boxes, 0 for
the boxes the screen notes as blank); the office publishes with a director's approval, and
the published results are what the generator wrote.

The upload's reading job runs in the request (``JOBS_IMMEDIATE``): the database is the
pass's own and no separate ``blindmark worker`` process is needed; tests/jobs covers the
worker itself.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from marking.demo.sheetfill import Corpus, Degrade, Mix, make_corpus, source_from_exam, write_pdf
from marking.domain.objective import score_objective
from marking.domain.rules.scores import component_score
from marking.paper.codes import decode_payload
from marking.paper.quarantine import QuarantineRow, list_quarantine
from marking.paper.reading import read_page
from marking.setup.assignment import assign
from marking.setup.sessions import get_session
from marking.store.models import IssuedSheet, Mark, ScanBatch, ScanBatchState, SessionState
from tests.browser.conftest import Person
from tests.integration.factory import (
    ACTOR,
    PASSPHRASE,
    Keys,
    add_examiners,
    add_staff,
    new_session,
    people,
)
from tests.web.conftest import World
from tests.web.test_office_scans import english_words

pytestmark = pytest.mark.sqlite  # chromium is the expensive part (see test_screens.py)

CODE = "BR-PAPER"
EXAMINERS = ("e1", "e2")
ZERO = Decimal(0)
APPROVE_SCHEME = "批准该细则并开放本组阅卷"
ROSTER = people(8, seed=3, prefix="26")  # ten-digit exam numbers: the sheets' default grid
# Chosen so the eight sheets hold one smudged exam number, one faint bubble row, one 缺考
# sheet and three blank answer boxes (and blank bubble rows); nothing else is doubtful.
SEED = 184
MIX = Mix(
    light=0.05, faint=0.06, ticked=0, crossed=0, erased=0, double=0, blank_row=0.05,
    blank_box=0.25, absent=0.12, violation=0, smudged_number=0.12,
)  # fmt: skip
LIGHTLY = Degrade(
    dpis=(200,), upside_down=0.15, skew=2.0, scale=0.01, noise=4.0, blur=0.05,
    jpeg=0, colour=0, black_and_white=0,
)  # fmt: skip
TOML = """\
[session]
code = "BR-PAPER"
occupation = "电工"
occupation_code = "6-31-01-03"
level = 3
date = "2026-12-05"
station = "S-BR-PAPER"

[[groups]]
key = "short"
name = "简答题"
marks_required = 2

[[components]]
key = "theory"
name = "理论知识"
""" + "".join(
    f'\n[[components.questions]]\nnumber = "{n}"\nbank_item = "T-000{n}"\n{body}\n'
    for n, body in enumerate(
        (
            'type = "single_choice"\nmax = 2\nanswer = "A"',
            'type = "single_choice"\nmax = 2\nanswer = "C"',
            'type = "multiple_choice"\nmax = 3\nanswer = "BD"',
            'type = "true_false"\nmax = 1\nanswer = "F"',
            'type = "short_answer"\nmax = 6\nstep = 0.5\ntolerance = 1\ngroup = "short"\n'
            'lines = 3\nreference = "断电、验电、挂接地线"\nscheme = "每个要点 2 分"',
            'type = "short_answer"\nmax = 4\nstep = 0.5\ntolerance = 1\ngroup = "short"\n'
            'lines = 3\nreference = "绝缘、屏护、间距"\nscheme = "每个要点 1 分"',
        ),
        start=1,
    )
)


@pytest.fixture(scope="module")
def keys(world: World) -> Keys:
    """The session keyed with a key file, examiners e1 and e2 on its one group (the lead
    opens it once the scans are in); the upload's reading job runs in the request."""
    world.app.config["JOBS_IMMEDIATE"] = True
    world.app.extensions.pop("blindmark.jobs", None)
    with world.tx() as db:
        add_staff(db)
        add_examiners(db, world.tmp / CODE, *EXAMINERS)
        exam, made = new_session(db, world.tmp / CODE, TOML, key_file=True)
        assign(db, exam, exam.groups[0], list(EXAMINERS), actor=ACTOR, lead="lead")
        world.passwords(db)
    return made


def print_sheets(office: Person, folder: Path) -> Path:
    """The office's 答题卡 button: eight sheet sets, downloaded as the browser saves it."""
    page = office.go(f"/office/sessions/{CODE}")
    form = page.locator(f"form[action='/office/sessions/{CODE}/sheets']")
    form.locator("select[name=component]").select_option("theory")
    form.locator("input[name=count]").fill(str(len(ROSTER)))
    # Rendering the sheets' PDF may take longer than a click waits on a busy machine.
    with page.expect_download(timeout=60_000) as download:
        form.get_by_role("button", name="打印答题卡（PDF）").click(timeout=60_000)
    path = folder / "sheets.pdf"
    download.value.save_as(path)
    return path


def printed_serials(path: Path, key: bytes) -> list[str]:
    """Each printed page's serial, read back from its QR code (as a scanner would)."""
    document = pdfium.PdfDocument(path)
    try:
        serials = []
        for index in range(len(document)):
            pixels = document[index].render(scale=150 / 72, grayscale=True).to_numpy()
            reading = read_page(np.ascontiguousarray(pixels), dpi_hint=150)
            payload = decode_payload(reading.text, key=key)
            assert (payload.session, payload.component, payload.page) == (CODE, "theory", 1)
            serials.append(payload.serial)
        return serials
    finally:
        document.close()


def roster_csv(folder: Path) -> Path:
    path = folder / "room.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(("exam_no", "name", "id_number", "institution"))
        out.writerows((c.exam_no, c.name, c.id_number, c.institution) for c in ROSTER)
    return path


def upload(office: Person, roster: Path, bundle: Path) -> Page:
    """The 答题卡扫描 form: a room's roster and its bundle; the reading runs to its end."""
    page = office.go(f"/office/sessions/{CODE}")
    expect(page.locator("h2#scans")).to_have_text("答题卡扫描")
    form = page.locator(f"form[action='/office/sessions/{CODE}/scans']")
    form.locator("select[name=component]").select_option("theory")
    form.get_by_label("批次（考场）名称").fill("第一考场")
    form.locator("input[name=roster]").set_input_files(str(roster))
    form.locator("input[name=scans]").set_input_files(str(bundle))
    with page.expect_navigation(timeout=60_000):
        form.get_by_role("button", name="建立批次并识读扫描件").click()
    return page


def scans_section(content: str) -> str:
    """The session page's 答题卡扫描 section (the rest of the page is others' business)."""
    section = content.split('<h2 id="scans">', 1)[1].split("<h2", 1)[0]
    assert "答题卡扫描" in section and "第一考场" in section
    return section


def settle(page: Page, item: QuarantineRow, corpus: Corpus) -> None:
    """Settle one item from the truth: the exam number meant, or the row's value."""
    section = page.locator(f"#item-{item.id}")
    expect(section.locator("dl.facts")).to_contain_text(item.serial or "")
    sheet = corpus.sheet(item.serial or "")
    if item.kind == "exam_number":
        section.get_by_label("密封区所示的准考证号").fill(sheet.exam_number.intended)
    else:
        assert item.kind == "bubble_row" and item.question is not None, item
        row = section.get_by_role("group", name=f"第 {item.question} 题已填涂的选项")
        for option in sheet.row(item.question).value or "-":
            row.get_by_label("均未填涂" if option == "-" else option, exact=True).check()
    with page.expect_navigation():
        section.get_by_role("button", name="处理").click()
    expect(page.locator(".flash.ok").first).to_contain_text(f"待处理项 {item.id} 已处理")


def mark_everything(examiner: Person) -> tuple[int, int]:
    """Mark every response held or claimable with the keyboard: the maximum for a written
    box, 0 for a box the screen notes as blank. Returns (marks, blank notes seen)."""
    page = examiner.go(f"/examiner/sessions/{CODE}/mark")
    work, note = page.locator("#work"), page.locator("#blank")
    mark_input, message = page.locator("#mark"), page.locator("#message")
    expect(page.locator("#work:not([hidden]), #empty:not([hidden])")).to_have_count(1)
    marks = blanks = 0
    while work.is_visible():
        blank = note.is_visible()
        if blank and not blanks:
            expect(note).to_have_text("空白：此答题框内未检测到笔迹。请核对图片后再给分。")
            examiner.shot("35-examiner-blank-box")
        blanks += blank
        expect(mark_input).to_be_focused()
        page.keyboard.type("0" if blank else page.locator("#max").inner_text())
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => document.getElementById('mark').value === ''"
            " || !document.getElementById('empty').hidden"
        )
        expect(message).not_to_have_class("flash error")
        marks += 1
    expect(message).to_have_text("目前没有需要您评分的作答。谢谢！")
    return marks, blanks


def canvas_size(page: Page) -> tuple[int, int]:
    size = page.evaluate("() => [document.getElementById('image').width,"
                         " document.getElementById('image').height]")  # fmt: skip
    return int(size[0]), int(size[1])


def zoom_and_rotate(examiner: Person) -> None:
    """The image tools, once each: zoom in makes the canvas larger, a quarter turn stands
    the wide box upright; reset goes back. The mark field has the keyboard again afterwards."""
    page = examiner.go(f"/examiner/sessions/{CODE}/mark")
    expect(page.locator("#viewer")).to_be_visible()
    page.wait_for_function(  # drawn: no longer the blank canvas's 300 × 150
        "() => { const c = document.getElementById('image');"
        " return c.width !== 300 && c.height !== 150; }"
    )
    width, height = canvas_size(page)
    assert width > height > 0, (width, height)  # an answer box is wider than tall
    examiner.shot("33-examiner-scanned-box")
    page.get_by_role("button", name="放大").click()
    expect(page.locator("#zoom-level")).to_have_text("125%")
    wider, taller = canvas_size(page)
    assert wider > width and taller > height, ((width, height), (wider, taller))
    page.get_by_role("button", name="旋转 90 度").click()
    turned = canvas_size(page)  # a quarter turn: fitted to the width again, now upright
    assert turned[1] > turned[0] > 0, turned
    examiner.shot("34-examiner-box-turned")
    page.get_by_role("button", name="复原").click()
    assert canvas_size(page) == (width, height)
    page.locator("#mark").focus()


def expected_results(corpus: Corpus) -> dict[str, tuple[str, str]]:
    """Per exam number, (theory score, outcome) as the truth says: the key's score of each
    row's value, the maximum of each written box, 0 for a blank one; absent for 缺考."""
    questions = {q.number: q for q in corpus.source.component.questions}
    top = sum(q.max for q in questions.values())
    expected = {}
    for sheet in corpus.sheets:
        if sheet.absent:
            expected[sheet.exam_number.intended] = ("", "absent")
            continue
        points = sum((score_objective(questions[r.question], r.value) for r in sheet.rows), ZERO)
        points += sum((questions[b.question].max for b in sheet.boxes if not b.blank), ZERO)
        score = component_score(int(points * 1000), int(top * 1000))
        expected[sheet.exam_number.intended] = (f"{score:.1f}", "pass" if score >= 60 else "fail")
    return expected


def published(page: Page) -> dict[str, tuple[str, str]]:
    """The results page's table: per exam number, (theory score, outcome)."""
    table = page.locator("table.results")
    columns = [th.get_attribute("data-column") for th in table.locator("thead th").all()]
    rows = [r.locator("td").all_inner_texts() for r in table.locator("tbody tr").all()]
    found = [dict(zip(columns, row, strict=True)) for row in rows]
    words = {"合格": "pass", "不合格": "fail", "缺考": "absent", "成绩无效": "void"}
    return {r["exam_no"]: (r["theory_score"], words[r["outcome"]]) for r in found}


def test_print_fill_scan_settle_mark_and_publish(
    world: World, keys: Keys, people: dict[str, Person]
) -> None:
    folder = world.tmp / "paper"
    folder.mkdir()
    office = people["office"]
    office.log_in("office")

    # Print: the PDF the browser downloads carries the serials the session issued.
    sheets = print_sheets(office, folder)
    with world.tx() as db:
        exam = get_session(db, CODE)
        source = source_from_exam(exam, "theory")
        issued = set(
            db.scalars(select(IssuedSheet.serial).where(IssuedSheet.session_id == exam.id))
        )
    serials = printed_serials(sheets, source.key or b"")
    assert len(serials) == len(ROSTER) and set(serials) == issued

    # Fill and scan: one sheet per candidate of the room, lightly degraded, in one PDF.
    corpus = make_corpus(
        source, [c.exam_no for c in ROSTER], seed=SEED, serials=serials, mix=MIX, degrade=LIGHTLY
    )
    doubts: dict[str, list[Any]] = {
        "absent": [s.serial for s in corpus.sheets if s.absent],
        "smudged": [s.serial for s in corpus.sheets if s.exam_number.read is None],
        "unclear": [(s.serial, r.question) for s in corpus.sheets for r in s.rows if not r.clear],
        "blank": [s.serial for s in corpus.sheets if not s.absent for b in s.boxes if b.blank],
    }
    assert [len(v) for v in doubts.values()] == [1, 1, 1, 3], doubts  # what SEED gives
    bundle = folder / "pile.pdf"
    assert write_pdf(corpus.images(), bundle) == len(ROSTER)

    # Upload with the roster; the file's progress runs to its end.
    page = upload(office, roster_csv(folder), bundle)
    expect(page.locator(".flash.ok").first).to_contain_text("第一考场")
    batch_row = page.locator("table.scans tbody tr").first
    file_row = batch_row.locator("li[data-file]")
    expect(file_row).to_contain_text("pile.pdf")
    expect(file_row.locator(".file-state")).to_have_text("已识读")
    expect(file_row.locator(".pages")).to_have_text("8 / 8")
    bar = file_row.locator("progress")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "8"
    expect(batch_row.locator(".pages_received")).to_have_text("8")
    expect(batch_row.locator(".open_items")).to_have_text("2")
    office.shot("30-office-scan-progress")
    leaks = ("pile.pdf", "room.csv", CODE, "theory", "short", "office")
    assert english_words(scans_section(page.content()), *leaks) == []

    # Quarantine: exactly the doubts the generator planted, settled from its truth.
    with world.tx() as db:
        exam = get_session(db, CODE)
        items = list_quarantine(db, exam)
        batch_id = db.scalars(select(ScanBatch.id).where(ScanBatch.session_id == exam.id)).one()
    assert sorted((i.kind, i.serial, i.question) for i in items) == sorted(
        [("exam_number", s, None) for s in doubts["smudged"]]
        + [("bubble_row", s, q) for s, q in doubts["unclear"]]
    )
    with page.expect_navigation():
        batch_row.get_by_role("link", name="隔离区与关闭").click()
    expect(page.locator("h1")).to_have_text("扫描批次 第一考场 的隔离区")
    expect(page.locator("section.quarantine-item")).to_have_count(len(items))
    office.shot("31-office-scan-quarantine")
    assert english_words(page.content(), *leaks, *serials) == []
    for item in items:
        settle(page, item, corpus)
    closed_itself = "已无待处理项：扫描批次已自动关闭（生成 7 份答卷；名册中 1 名考生缺考"
    expect(page.locator(".flash.ok").last).to_contain_text(closed_itself)
    expect(page.get_by_text("已无待处理项。")).to_be_visible()
    expect(page.locator("table.settled tbody tr")).to_have_count(len(items))
    office.shot("32-office-scan-closed")
    assert english_words(page.content(), *leaks, *serials) == []
    with world.tx() as db:
        batch = db.get(ScanBatch, batch_id)
        assert batch is not None and batch.state is ScanBatchState.CLOSED

    # The lead opens the group; two examiners mark every box of the seven who sat.
    sat = len(ROSTER) - 1
    desk = people["lead"].log_in("lead")
    with desk.expect_navigation():
        desk.locator(f"a[href='/lead/sessions/{CODE}']").click()
    with desk.expect_navigation():
        desk.get_by_role("button", name=APPROVE_SCHEME).click()
    expect(desk.locator("section.card p", has_text="已批准")).to_be_visible()
    people["e1"].log_in("e1")
    zoom_and_rotate(people["e1"])
    for username in EXAMINERS:
        if username != "e1":
            people[username].log_in(username)
        marks, blanks = mark_everything(people[username])
        assert (marks, blanks) == (2 * sat, len(doubts["blank"])), username
    people["e2"].shot("36-examiner-done")
    with world.tx() as db:
        assert db.scalar(select(func.count()).select_from(Mark)) == 2 * 2 * sat

    # Publication: the office asks, the director approves, the office unlocks.
    page = office.go(f"/office/sessions/{CODE}")
    with page.expect_navigation():
        page.get_by_role("link", name="发布", exact=True).click()
    expect(page.get_by_text("等待主任批准。")).to_be_visible()
    desk = people["director"].log_in("director")
    with desk.expect_navigation():
        desk.locator(f"a[href='/director/sessions/{CODE}']").click()
    desk.locator("input[name=note]").fill("已核对答题卡扫描")
    desk.locator("form.approve input[name=confirm]").check()
    with desk.expect_navigation():
        desk.get_by_role("button", name="批准发布").click()
    expect(desk.locator("p.flash.ok")).to_have_text("已批准发布，考务办公室现在可以发布。")
    page.reload()
    form = page.locator("form[enctype='multipart/form-data']")
    assert keys.key_file is not None
    form.locator("input[name=key_file]").set_input_files(str(keys.key_file))
    form.locator("input[name=passphrase]").fill(PASSPHRASE)
    form.locator("input[name=confirm]").check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("p.flash.ok")).to_contain_text("场次已发布")
    office.shot("37-scan-results")

    # The published results are what the generator wrote.
    assert published(page) == expected_results(corpus)
    with world.tx() as db:
        assert get_session(db, CODE).state is SessionState.PUBLISHED

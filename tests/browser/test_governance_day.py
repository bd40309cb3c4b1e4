"""Issue 12's proof: a level-2 session carried from creation to publication and one appeal
revision entirely in the browser, in Chinese, each step by the person whose duty it is, then
``blindmark verify --archive`` on its archive, with no database.

Only the accounts of the staff are seeded (office, director, lead, admin, centre). Then:

- the office creates the session from its session.toml (理论知识, 操作技能 and the interview
  of level 2), makes the key (the key file downloaded, kept for publication), imports the
  examiners with the columns of DESIGN §14 (certificate_issued, category, card_status; the
  lead's certificate from the same file: 第三条, 第六条(三), 第七条(一)), sets their
  passwords, seals a conflicts file; an examiner declares their own conflict on their
  account page (第七条(四), 回避); the office takes a batch in (zip) and assigns the
  simple-answer group naming the lead, the lead assigns the practical group (第七条(六));
- the lead approves the schemes; three examiners mark with the keyboard (one corrects their
  last mark, F4, 第七条(八)); a disagreement goes to a third examiner and then to the lead,
  who arbitrates (R14);
- two panel members enter their own interview scores, the office transcribes the third's
  signed sheet (R7), records one candidate absent from the interview, one violation and a
  collective decision, which the guidance centre approves (R13);
- the director reviews and approves (R16), the office publishes with the key file: 合格,
  不合格, 无效 and 缺考 as the arithmetic of DESIGN §11 says;
- the office opens an appeal revision (复核) for one candidate's 操作技能, assigns a fourth
  examiner; two examiners who did not mark those answers mark them again; the director
  approves; the office publishes revision 2: the appeal turns 不合格 into 合格 and
  revision 1 stays readable;
- the office makes the archive on the results page (a job, run in the request here) and
  downloads it; ``blindmark verify --archive`` passes on it and fails on a tampered copy.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from marking.people.accounts import add_user
from marking.setup.sessions import get_session
from marking.store.models import Mark, MarkCorrection, Role, SessionState
from tests.browser.conftest import Person
from tests.browser.steps import ok, submit
from tests.integration.factory import (
    EXAMINER_EXTRA,
    EXAMINER_HEADER,
    OCCUPATION,
    people,
    tiny_rows,
    tiny_toml,
    write_csv,
)
from tests.web.conftest import World

pytestmark = pytest.mark.sqlite  # chromium once, in the SQLite pass (tests/web covers PG)

CODE = "BR-GOV"
PASSPHRASE = "vermilion otter harbours quilted lanterns"
EXAMINER_PASSWORD = "examiner-password-12"
ROSTER = people(5, seed=12, prefix="2612")
C1, C2, C3, C4, C5 = ROSTER
MARKERS = ("e1", "e2", "e3")
PANEL = ("s1", "s2", "s3")
# What each examiner gives each answer, by the text the marking screen shows (tiny_rows:
# "c<i> <component>"). Theory = (2 + short) × 12.5, skills = (2 + practical) × 10.
# e2 declares a conflict with c3 (so e3 is c3's second examiner); c5's theory answer is
# marked 1 and 5 (beyond the tolerance of 1), then 3 by e3, near neither: the lead rules 2.
PLAN = {
    "e1": {"c1 theory": 5, "c1 skills": 6, "c2 theory": 4, "c2 skills": 3, "c3 theory": 6,
           "c3 skills": 8, "c4 theory": 3, "c5 theory": 1, "c5 skills": 7},
    "e2": {"c1 theory": 5, "c1 skills": 6, "c2 theory": 4, "c2 skills": 3, "c4 theory": 3,
           "c5 theory": 5, "c5 skills": 7},
    "e3": {"c3 theory": 6, "c3 skills": 8, "c5 theory": 3},
    "e4": {"c2 skills": 5},
}  # fmt: skip
REVISED = {"e3": {"c2 skills": 5}, "e4": {"c2 skills": 5}}  # the appeal: 50 → 70
SCORES = ("theory_score", "skills_score", "interview_score")
OUTCOMES = {
    "pass": "合格",
    "fail": "不合格",
    "void": "成绩无效",
    "absent": "缺考",
}  # as the reports say


@pytest.fixture(scope="module")
def staff(world: World) -> None:
    """The seeded accounts: office, director and lead (no certificate yet: the office's
    examiners.csv gives it), admin and centre. Jobs run in the request."""
    world.app.config["JOBS_IMMEDIATE"] = True
    world.app.extensions.pop("blindmark.jobs", None)
    with world.tx() as db:
        for username, role in (("office", Role.OFFICE), ("director", Role.DIRECTOR),
                               ("lead", Role.LEAD)):  # fmt: skip
            add_user(db, username, role=role)
        world.passwords(db)


# --- the office's files --------------------------------------------------------------------


def files(folder: Path) -> dict[str, Path]:
    """session.toml, examiners.csv with DESIGN §14's columns (the lead's row too),
    conflicts.csv and the batch's zip (c4 absent from 操作技能)."""
    folder.mkdir(parents=True, exist_ok=True)
    toml = folder / "session.toml"
    toml.write_text(tiny_toml(CODE, level=2, station="S-BR-GOV"), encoding="utf-8")
    scope, senior = f"{OCCUPATION}:2", f"{OCCUPATION}:1;{OCCUPATION}:2"
    examiners = [
        (
            u,
            f"考评员{u}",
            f"C-{u}",
            "2027-12-31",
            "examiner",
            scope,
            "站",
            "2025-01-10",
            cat,
            "valid",
        )
        for u, cat in (("e1", "theory;skills"), ("e2", ""), ("e3", ""), ("e4", "skills"))
    ] + [
        (
            u,
            f"高级考评员{u}",
            f"C-{u}",
            "2028-06-30",
            "senior",
            senior,
            "站",
            "2025-07-01",
            "",
            "valid",
        )
        for u in (*PANEL, "lead")
    ]
    candidates = [(c.exam_no, c.name, c.id_number, c.institution) for c in ROSTER]
    made = {
        "toml": toml,
        "examiners": write_csv(
            folder / "examiners.csv", EXAMINER_HEADER + EXAMINER_EXTRA, examiners
        ),
        "conflicts": write_csv(
            folder / "conflicts.csv",
            ("username", "id_number", "relation"),
            [("e3", C4.id_number, "other")],
        ),
        "batch": folder / "batch.zip",
    }
    batch = folder / "第一批"
    write_csv(batch / "candidates.csv", ("exam_no", "name", "id_number", "institution"), candidates)
    write_csv(
        batch / "responses.csv",
        ("exam_no", "component", "question", "response"),
        tiny_rows(ROSTER, absent={C4.exam_no: {"skills"}}),
    )
    with zipfile.ZipFile(made["batch"], "w") as z:
        for path in batch.iterdir():
            z.write(path, f"第一批/{path.name}")
    return made


# --- small steps -----------------------------------------------------------------------------


def create_and_key(office: Person, made: dict[str, Path], folder: Path) -> Path:
    page = office.go("/office/")
    page.locator("input[name=definition]").set_input_files(str(made["toml"]))
    submit(page, "form[action='/office/sessions']")
    ok(page, f"场次 {CODE} 已创建")
    form = "form[action*='/keys']:has(input[value=key_file])"
    page.locator(f"{form} input[name=passphrase]").fill(PASSPHRASE)
    page.locator(f"{form} input[name=passphrase2]").fill(PASSPHRASE)
    page.locator(f"{form} input[name=confirm]").check()
    with page.expect_download() as download:
        page.locator(f"{form} button[type=submit]").click()
    key = folder / download.value.suggested_filename
    download.value.save_as(key)
    # The page stays, its passphrases cleared, saying where the key went (issue 14, 3).
    expect(page.locator(f"{form} input[name=passphrase]")).to_have_value("")
    expect(page.locator(f"{form} .key-made")).to_be_visible()
    page.reload()
    expect(page.locator("p.custody")).to_contain_text("一名保管人：密钥文件")
    office.shot("70-office-session-keyed")
    return key


def import_examiners(office: Person, made: dict[str, Path]) -> None:
    page = office.go("/office/examiners")
    page.locator("input[name=file]").set_input_files(str(made["examiners"]))
    submit(page, "form[action='/office/examiners']")
    ok(page, "考评员已导入：新增 7 人，更新 1 人。")  # the lead's row gives the lead a certificate
    expect(page.locator("#examiner-lead td.validity")).to_have_text("有效")
    expect(page.locator("#examiner-e4")).to_contain_text("操作技能")
    office.shot("71-office-register")
    for username in (*MARKERS, "e4", *PANEL):
        page = office.go(f"/office/examiners/{username}/access")
        form = f"form[action='/office/examiners/{username}/password']"
        page.locator(f"{form} input[name=password]").fill(EXAMINER_PASSWORD)
        page.locator(f"{form} input[name=password2]").fill(EXAMINER_PASSWORD)
        page.locator(f"{form} input[name=understood]").check()
        submit(page, form)
        ok(page, f"已设置 {username} 的密码")


def declare_conflict(examiner: Person) -> None:
    """e2 declares, on their account page, that c3 is their student (sealed; where and when
    shown, never whom)."""
    page = examiner.go("/account")
    form = page.locator("#declare-form")
    form.locator("select[name=session]").select_option(CODE)
    form.locator("input[name=id_number]").fill(C3.id_number)
    form.locator("select[name=relation]").select_option("teacher_student")
    submit(page, "#declare-form")
    ok(page, f"回避声明已记录并密封于 1 个场次：{CODE}")
    assert C3.id_number not in page.content() and C3.name not in page.content()


def intake_and_assign(office: Person, lead: Person, made: dict[str, Path]) -> None:
    page = office.go(f"/office/sessions/{CODE}")
    page.locator("form[action$='/conflicts'] input[name=file]").set_input_files(
        str(made["conflicts"])
    )
    submit(page, "form[action$='/conflicts']")
    ok(page, "已密封 1 条回避申报。")
    page.locator("form[action$='/intake'] input[name=batch]").set_input_files(str(made["batch"]))
    page.locator("form[action$='/intake'] input[name=name]").fill("第一批")
    submit(page, "form[action$='/intake']")
    ok(page, "考生 5 名")
    form = f"form[action^='/office/sessions/{CODE}/groups/short/assign']"
    for username in ("e1", "e2", "e3"):  # ticked by name (考评员e1 (e1)), not typed
        page.locator(f"{form} input[name=examiners][value={username}]").check()
    page.locator(f"{form} input[name=lead]").fill("lead")
    submit(page, form)
    ok(page, "简答题")
    office.shot("72-office-assigned")

    desk = lead.go(f"/lead/sessions/{CODE}")
    form = f"form[action^='/lead/sessions/{CODE}/groups/prac/assign']"
    desk.locator(f"{form} input[name=examiner_list]").fill("e1,e2,e3")
    submit(desk, form)
    ok(desk, "实操题")
    expect(desk.locator("#team")).to_contain_text("lead")
    submit(desk, "form[action$='/groups/short/approve']")
    ok(desk, "简答题")
    submit(desk, "form[action$='/groups/prac/approve']")
    ok(desk, "实操题")
    expect(desk.locator("section.card p", has_text="已批准")).to_have_count(2)
    lead.shot("73-lead-divided-and-approved")


def mark_all_mine(examiner: Person, plan: dict[str, int], *, slip: bool = False) -> list[str]:
    """Mark every answer offered, with the keyboard, as ``plan`` says. With ``slip``, the
    first mark is typed half a point too low and corrected at once with F4 ("更正我的上一个
    评分") before going on. Returns the texts marked."""
    page = examiner.go(f"/examiner/sessions/{CODE}/mark")
    work, text, message = page.locator("#work"), page.locator("#text"), page.locator("#message")
    expect(page.locator("#work:not([hidden]), #empty:not([hidden])")).to_have_count(1)
    done: list[str] = []
    while work.is_visible():
        shown = text.inner_text()
        value = Decimal(plan[shown])
        expect(page.locator("#mark")).to_be_focused()
        page.keyboard.type(str(value - Decimal("0.5") if slip and not done else value))
        page.keyboard.press("Enter")
        # After the last answer the screen goes on at once to "nothing left": under load that
        # can replace the confirmation before it is read. The marks are checked in the results.
        expect(message).to_have_text(
            re.compile(r"^(评分已记录。|目前没有需要您评分的作答。谢谢！)$")
        )
        if slip and not done:
            correct_last(examiner, value)
        done.append(shown)
        page.wait_for_function(
            "() => document.getElementById('mark').value === ''"
            " || !document.getElementById('empty').hidden"
        )
    expect(message).to_have_text("目前没有需要您评分的作答。谢谢！")
    return done


def correct_last(examiner: Person, value: Decimal) -> None:
    page = examiner.page
    page.keyboard.press("F4")
    expect(page.locator("#correct-value")).to_be_focused()
    page.keyboard.type(str(value))
    page.keyboard.press("Tab")
    page.keyboard.type("笔误，少给了半分")
    examiner.shot("74-examiner-corrects-last-mark")
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_have_text("更正已记录。")
    expect(page.locator("#mark")).to_be_focused()


def arbitrate(lead: Person) -> None:
    page = lead.go(f"/lead/sessions/{CODE}/arbitration")
    task = page.locator(".task")  # one response at a time
    expect(task).to_have_count(1)
    expect(task.locator("h2").first).to_contain_text("理论知识 第 2 题")
    expect(task.locator(".response-text")).to_have_text("c5 theory")
    assert sorted(task.locator(".mark").all_inner_texts()) == ["1", "3", "5"]
    task.locator("input[name=value]").fill("2")
    task.locator("input[name=reason]").fill("按评分细则，两个要点")
    lead.shot("75-lead-arbitration")
    submit(page, ".task form")
    expect(page.locator("p.flash.ok")).to_have_text("最终分 2 已记录。")


def own_interview_scores(member: Person, scores: dict[str, str]) -> None:
    """A panel member enters their own score of each candidate, from their home page."""
    page = member.go("/examiner/")
    with page.expect_navigation():
        page.locator(f"ul.panels a[href='/examiner/sessions/{CODE}/interview']").click()
    for exam_no, score in scores.items():
        page.locator("#own-score-form input[name=exam_no]").fill(exam_no)
        page.locator("#own-score-form input[name=score]").fill(score)
        submit(page, "#own-score-form")
        ok(page, "您的评分已记录并密封。")
    expect(page.locator("p.counts strong")).to_have_text(str(len(scores)))
    assert not [c.name for c in ROSTER if c.name in page.content()]


def office_records(office: Person, scores: dict[str, str]) -> None:
    """The office transcribes s3's signed sheet, records c4 absent from the interview, c3's
    score declared void, and a collective warning for c1 and c5 (decided by the lead)."""
    page = office.go(f"/office/sessions/{CODE}/records")
    for exam_no, score in scores.items():
        page.locator("#transcribe-form input[name=member]").fill("s3")
        page.locator("#transcribe-form input[name=exam_no]").fill(exam_no)
        page.locator("#transcribe-form input[name=score]").fill(score)
        submit(page, "#transcribe-form")
        ok(page, "面试评分已记录并密封。")
    page.locator("#absent-form input[name=exam_no]").fill(C4.exam_no)
    page.locator("#absent-form input[name=reason]").fill("未到面试考场")
    submit(page, "#absent-form")
    ok(page, "面试缺考已记录并密封。")
    violation(page, C3.exam_no, "theory", "void", "夹带资料", "lead", "")
    violation(page, f"{C1.exam_no} {C5.exam_no}", "skills", "warning", "互相交谈", "lead", "GOV-1")
    expect(page.locator("li[data-collective=GOV-1]")).to_contain_text("待鉴定指导中心批准")
    office.shot("76-office-records")


def violation(page: Page, exam_no: str, component: str, action: str, reason: str,
              decided_by: str, collective: str) -> None:  # fmt: skip
    form = page.locator("#violation-form")
    form.locator("input[name=exam_no]").fill(exam_no)
    form.locator("select[name=component]").select_option(component)
    form.locator("select[name=action]").select_option(action)
    form.locator("input[name=reason]").fill(reason)
    form.locator("input[name=decided_by]").fill(decided_by)
    form.locator("input[name=collective]").fill(collective)
    submit(page, "#violation-form")
    expect(page.locator("p.flash.ok")).to_have_text("违纪已记录并密封。")


def centre_approves(centre: Person) -> None:
    desk = centre.log_in("centre")
    row = desk.locator("tr[data-collective=GOV-1]")
    expect(row).to_contain_text(CODE)
    row.locator("input[name=confirm]").check()
    with desk.expect_navigation():
        row.get_by_role("button", name="批准").click()
    expect(desk.locator("p.flash.ok")).to_contain_text("GOV-1")
    centre.shot("77-centre-approved")


def director_approves(director: Person) -> None:
    desk = director.go(f"/director/sessions/{CODE}")
    expect(desk.locator("dd.candidates")).to_have_text("5")
    expect(desk.locator("dd.responses-final")).to_have_text("18 / 18")
    expect(desk.locator("dd.open-items")).to_have_text("0")
    desk.locator("input[name=note]").fill("已审阅成绩汇总")
    desk.locator("form.approve input[name=confirm]").check()
    director.shot("78-director-review")
    submit(desk, f"form[action='/director/sessions/{CODE}/approval']")
    expect(desk.locator("p.flash.ok")).to_have_text("已批准发布，考务办公室现在可以发布。")


def publish(office: Person, key: Path) -> Page:
    page = office.go(f"/office/sessions/{CODE}/publication")
    form = "form[enctype='multipart/form-data']"
    page.locator(f"{form} input[name=key_file]").set_input_files(str(key))
    page.locator(f"{form} input[name=passphrase]").fill(PASSPHRASE)
    page.locator(f"{form} input[name=confirm]").check()
    submit(page, form)
    expect(page.locator("p.flash.ok")).to_have_text("场次已发布：考生 5 名。")
    return page


def results_table(page: Page) -> dict[str, dict[str, str]]:
    """The results page's table, per exam number: each cell by its column's §11 key."""
    table: dict[str, dict[str, str]] = {}
    for row in page.locator("table.results tbody tr").all():
        cells = row.locator("td[data-column]")
        keys = [cells.nth(i).get_attribute("data-column") or "" for i in range(cells.count())]
        found = dict(zip(keys, cells.all_inner_texts(), strict=True))
        table[found["exam_no"]] = found
    return table


def outcomes(page: Page) -> dict[str, str]:
    """Per exam number, the outcome as the page words it."""
    return {exam_no: row["outcome"] for exam_no, row in results_table(page).items()}


def open_revision(office: Person) -> None:
    page = office.go(f"/office/sessions/{CODE}/revisions")
    form = page.locator("#open-revision")
    form.locator("textarea[name=candidates]").fill(C2.exam_no)
    form.locator("input[name=component][value=skills]").check()
    form.locator("input[name=reason]").fill("考生申请复核操作技能成绩")
    form.locator("input[name=confirm]").check()
    submit(page, "#open-revision")
    expect(page.locator("#revision-2")).to_contain_text("考生申请复核操作技能成绩")
    expect(page.locator("#revision-2")).to_contain_text(C2.exam_no)
    expect(page.locator("#revision-2 .open-work")).to_contain_text(
        "评分组 实操题：1 份作答已没有未评过它们的考评员"
    )
    office.shot("80-office-revision-open")
    # e1 and e2 marked c2's practical answer: a fourth examiner joins the group for it.
    page = office.go(f"/office/sessions/{CODE}")
    form_ = f"form[action^='/office/sessions/{CODE}/groups/prac/assign']"
    page.locator(f"{form_} input[name=examiners][value=e4]").check()
    submit(page, form_)
    ok(page, "实操题")


def approve_and_publish_revision(director: Person, office: Person) -> Page:
    desk = director.go(f"/director/sessions/{CODE}/revision")
    expect(desk.locator("dd.open-items")).to_have_text("0")
    expect(desk.locator("dd.responses")).to_have_text("1")
    submit(desk, f"form[action='/director/sessions/{CODE}/revision/approval']")
    ok(desk, "第 2 次修订已审核通过，考务办公室现在可以发布。")
    director.shot("81-director-revision-approved")
    page = office.go(f"/office/sessions/{CODE}/revisions")
    page.locator("form[action$='/revisions/publish'] input[name=confirm]").check()
    submit(page, "form[action$='/revisions/publish']")
    ok(page, "第 2 次修订已发布。")
    return page


def make_archive(office: Person, folder: Path) -> Path:
    page = office.go(f"/office/sessions/{CODE}/results")
    with page.expect_navigation(timeout=90_000):
        page.locator("form[action$='/archive'] button[value=zh]").click(timeout=90_000)
    expect(page.locator(".report-run")).to_have_attribute("data-state", "done")
    office.shot("83-office-archive-done")
    with page.expect_download() as download:
        page.locator(".report-run a.primary").click()
    path = folder / download.value.suggested_filename
    download.value.save_as(path)
    return path


def verify_archive(path: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    """``blindmark verify --archive`` as an auditor runs it: its own process, in a folder
    of its own, with no database configured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLINDMARK_")}
    return subprocess.run(
        [str(Path(sys.executable).parent / "blindmark"), "verify", "--archive", str(path)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def tampered(path: Path) -> Path:
    """The archive with one published score changed (and nothing else)."""
    out = path.with_name("tampered.zip")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "results/revision-1.csv":
                data = data.replace(b"87.5", b"97.5")
            dst.writestr(info, data)
    return out


# --- the day ---------------------------------------------------------------------------------


def test_a_level_2_session_from_creation_to_an_appeal_and_its_archive(
    world: World, staff: None, people: dict[str, Person]
) -> None:
    folder = world.tmp / "governance"
    made = files(folder)
    office, lead = people["office"], people["lead"]
    office.log_in("office")
    lead.log_in("lead")

    # Setting up: the session, its key, the examiners, conflicts, the batch, the groups.
    key = create_and_key(office, made, folder)
    import_examiners(office, made)
    for username in (*MARKERS, "e4", *PANEL):
        people[username].log_in(username, EXAMINER_PASSWORD)
    declare_conflict(people["e2"])
    intake_and_assign(office, lead, made)

    # Marking: e1 (correcting a slip), e2, e3; the lead rules on the disagreement.
    assert sorted(mark_all_mine(people["e1"], PLAN["e1"], slip=True)) == sorted(PLAN["e1"])
    assert sorted(mark_all_mine(people["e2"], PLAN["e2"])) == sorted(PLAN["e2"])
    assert sorted(mark_all_mine(people["e3"], PLAN["e3"])) == sorted(PLAN["e3"])
    arbitrate(lead)
    with world.tx() as db:
        assert db.scalar(select(func.count()).select_from(Mark)) == 19
        assert db.scalar(select(func.count()).select_from(MarkCorrection)) == 1

    # Interview and records: s1, s2 on their own pages, s3's sheet by the office.
    interviewed = {c.exam_no: "80" for c in (C1, C2, C3, C5)}
    own_interview_scores(people["s1"], interviewed)
    own_interview_scores(people["s2"], {**interviewed, C5.exam_no: "55"})
    people["s2"].shot("79-panel-member-scores")
    office_records(office, interviewed)
    page = office.go(f"/office/sessions/{CODE}/publication")
    expect(page.locator("#collectives-check")).to_have_class("todo")
    centre_approves(people["centre"])

    # Publication: the director's approval, the office's key file.
    director = people["director"]
    director.log_in("director")
    director_approves(director)
    page = publish(office, key)
    office.shot("79-results-revision-1")
    first = {C1.exam_no: "pass", C2.exam_no: "fail", C3.exam_no: "void",
             C4.exam_no: "absent", C5.exam_no: "fail"}  # fmt: skip
    assert outcomes(page) == {n: OUTCOMES[o] for n, o in first.items()}
    scores = results_table(page)  # (2 + 5) × 12.5, (2 + 6) × 10, the panel's mean
    assert [scores[C1.exam_no][k] for k in SCORES] == ["87.5", "80.0", "80.0"]
    assert [scores[C2.exam_no][k] for k in SCORES] == ["75.0", "50.0", "80.0"]
    assert [scores[C4.exam_no][k] for k in SCORES] == ["62.5", "", ""]
    assert [scores[C5.exam_no][k] for k in SCORES] == ["50.0", "90.0", "71.7"]  # ruled 2

    # The appeal: c2's 操作技能 marked again by e3 and e4, approved, published as revision 2.
    open_revision(office)
    for username in ("e3", "e4"):
        assert mark_all_mine(people[username], REVISED[username]) == ["c2 skills"]
    assert mark_all_mine(people["e1"], {}) == []  # who marked it before gets nothing
    page = approve_and_publish_revision(director, office)
    page = office.go(f"/office/sessions/{CODE}/results")
    expect(page.locator("h1 .revision-shown")).to_have_text("第 2 次修订")
    assert outcomes(page) == {**{n: OUTCOMES[o] for n, o in first.items()}, C2.exam_no: "合格"}
    assert [results_table(page)[C2.exam_no][k] for k in SCORES] == ["75.0", "70.0", "80.0"]
    office.shot("82-results-revision-2")
    page = office.go(f"/office/sessions/{CODE}/results?revision=1")
    assert outcomes(page)[C2.exam_no] == "不合格"
    with world.tx() as db:
        assert get_session(db, CODE).state is SessionState.PUBLISHED

    # The archive, checked with no database; a tampered copy fails.
    archive = make_archive(office, folder)
    checked = verify_archive(archive, folder)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    refused = verify_archive(tampered(archive), folder)
    assert refused.returncode == 7, refused.stdout + refused.stderr

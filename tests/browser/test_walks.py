"""Issue 14's screens walked as their users walk them, in Chinese, each checked for
accessibility and untranslated text on the way (tests/browser/checks.py):

- the office assigns examiners to a group by ticking them, sees them listed and takes one
  off again, and is warned while a group has fewer examiners than marks required (R3);
- the office makes a session's key: the confirmation says what will happen, a refused
  passphrase comes back beside the form, the passphrase fields are empty afterwards, and
  the page shows who holds what (a key file, or which custodian has taken their share);
- the director finds the session waiting, reviews its summary and only then approves it,
  the confirmation naming the session and its counts (four eyes, R16);
- an examiner hands back one response, and an examiner who had nothing to mark gets it;
- the office's and the lead's downloads arrive and open: CSV and XLSX, with Chinese
  headings where the screen is Chinese.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marking.people.accounts import get_account
from marking.setup.sessions import get_session
from marking.store.models import Mark
from tests.browser.conftest import Person
from tests.browser.steps import (
    csv_rows,
    download,
    marked_session,
    ok,
    submit,
    unkeyed_session,
    xlsx_rows,
)
from tests.integration.factory import response_id
from tests.web.conftest import World
from tests.web.test_batches import published

pytestmark = pytest.mark.sqlite  # chromium once, in the SQLite pass (tests/web covers PG)

PASSPHRASE = "vermilion otter harbours quilted lanterns"


# --- the office: assignment ---------------------------------------------------------------


def test_the_office_ticks_examiners_onto_a_group_and_takes_one_off(
    world: World, people: dict[str, Person]
) -> None:
    world.session("WK-ASG", examiners=("e1", "e2", "e3"), open_groups=False)
    office = people["office"]
    office.log_in("office")
    page = office.go("/office/sessions/WK-ASG#assignment")
    short = page.locator("#assign-short")
    expect(short).to_contain_text("本组尚无考评员。")
    warning = short.locator(".short-group")
    expect(warning).to_have_text(
        "简答题现有考评员 0 名，但每份答卷需要 2 名不同考评员评分（第七条(七)）：请至少分配 2 名。"
    )

    # Nothing ticked: refused beside the group's form, not on an error page.
    submit(page, "#assign-short form[action*='/assign']")
    expect(page.locator("#assign-short")).to_contain_text("请至少勾选一名要加入的考评员。")

    # One examiner, by name: listed on the group, and the warning counts them.
    short = page.locator("#assign-short")
    short.get_by_label("考评员e1 (e1)").check()
    short.locator("input[name=lead]").fill("lead")
    submit(page, "#assign-short form[action*='/assign']")
    ok(page, "已分配到 简答题：新增 1 人。")
    short = page.locator("#assign-short")
    expect(short.locator("ul.members li")).to_have_count(1)
    expect(short.locator("ul.members")).to_contain_text("考评员e1 (e1)")
    expect(short.locator(".short-group")).to_contain_text("简答题现有考评员 1 名")
    expect(short.get_by_label("考评员e1 (e1)")).to_have_count(0)  # no longer offered

    # Two more ticked at once: enough, the warning goes.
    short.get_by_label("考评员e2 (e2)").check()
    short.get_by_label("考评员e3 (e3)").check()
    submit(page, "#assign-short form[action*='/assign']")
    ok(page, "已分配到 简答题：新增 2 人。")
    short = page.locator("#assign-short")
    expect(short.locator("ul.members li")).to_have_count(3)
    expect(short.locator(".short-group")).to_have_count(0)
    office.shot("90-office-group-assigned")

    # Taken off by the button named for them: listed no longer, offered again.
    with page.expect_navigation():
        short.get_by_role("button", name="将 考评员e3 移出简答题").click()
    ok(page, "已将 考评员e3（e3）移出简答题。")
    short = page.locator("#assign-short")
    expect(short.locator("ul.members li")).to_have_count(2)
    expect(short.locator("ul.members")).not_to_contain_text("e3")
    expect(short.get_by_label("考评员e3 (e3)")).not_to_be_checked()
    expect(short.locator(".short-group")).to_have_count(0)
    # Down to one: the warning is back.
    with page.expect_navigation():
        short.get_by_role("button", name="将 考评员e2 移出简答题").click()
    expect(page.locator("#assign-short .short-group")).to_contain_text("简答题现有考评员 1 名")
    # The practical group was never touched: its own warning stands.
    expect(page.locator("#assign-prac .short-group")).to_contain_text("实操题现有考评员 0 名")
    office.shot("91-office-group-short")


# --- the office: the session's key --------------------------------------------------------

KEY_FILE_FORM = "form.key-file"


def key_form_fields_empty(page: Page) -> None:
    for name in ("passphrase", "passphrase2"):
        expect(page.locator(f"{KEY_FILE_FORM} input[name={name}]")).to_have_value("")


def test_the_office_makes_a_key_file_confirmed_and_sees_who_holds_it(
    world: World, people: dict[str, Person], tmp_path: Path
) -> None:
    unkeyed_session(world, "WK-KEY")
    office = people["office"]
    office.log_in("office")
    page = office.go("/office/sessions/WK-KEY#keys")
    form = page.locator(KEY_FILE_FORM)
    # The confirmation says what happens: once, for good, one copy, nobody else has it.
    expect(form.locator("label:has(input[name=confirm])")).to_have_text(
        "我已确认：密钥只生成一次，无法更改。密钥文件只下载到本机一次，服务器不留副本："
        "保管该文件并知道口令的人即持有本场次的密钥；缺少其中任何一样，任何人都无法发布。"
    )

    # A passphrase easy to guess: refused beside the form, nothing made, fields empty.
    form.locator("input[name=passphrase]").fill("password123")
    form.locator("input[name=passphrase2]").fill("password123")
    form.locator("input[name=confirm]").check()
    submit(page, KEY_FILE_FORM)
    expect(page.locator(".refused")).to_contain_text("口令太容易被猜到")
    key_form_fields_empty(page)
    expect(page.locator(f"{KEY_FILE_FORM} .key-made")).to_be_hidden()
    expect(page.locator("p.custody")).to_have_count(0)

    # A long phrase: the key file downloads, the page stays with its fields cleared.
    form = page.locator(KEY_FILE_FORM)
    form.locator("input[name=passphrase]").fill(PASSPHRASE)
    form.locator("input[name=passphrase2]").fill(PASSPHRASE)
    form.locator("input[name=confirm]").check()
    key = download(page, form.get_by_role("button", name="生成密钥并下载密钥文件"), tmp_path)
    assert key.stat().st_size > 0
    assert PASSPHRASE.encode() not in key.read_bytes()
    key_form_fields_empty(page)
    expect(form.locator(".key-made")).to_have_text(
        "密钥文件已在本浏览器的下载内容中，口令输入框已清空。请将密钥文件与口令分开保管。"
        " 查看密钥保管情况"
    )
    office.shot("92-office-key-file-made")

    # Who holds what: one custodian with the key file; no form to make another key.
    with page.expect_navigation():
        form.get_by_role("link", name="查看密钥保管情况").click()
    expect(page.locator("p.custody")).to_contain_text("一名保管人：密钥文件")
    expect(page.locator(KEY_FILE_FORM)).to_have_count(0)


def test_the_office_hands_out_shares_and_sees_who_has_taken_theirs(
    world: World, people: dict[str, Person]
) -> None:
    unkeyed_session(world, "WK-SHR")
    office = people["office"]
    office.log_in("office")
    page = office.go("/office/sessions/WK-SHR#keys")
    shares = "form:has(input[name=custody][value=shares])"
    expect(page.locator(f"{shares} label:has(input[name=confirm])")).to_contain_text(
        "密钥只生成一次，无法更改，并拆分为若干分片"
    )
    # One custodian is no sharing: refused in Chinese beside the form, the tick kept.
    page.locator(f"{shares} input[name=custodian][value=office]").check()
    page.locator(f"{shares} input[name=confirm]").check()
    submit(page, shares)
    expect(page.locator(".refused")).to_contain_text("请至少勾选两名保管人")
    expect(page.locator(f"{shares} input[name=custodian][value=office]")).to_be_checked()

    for username in ("director", "lead"):
        page.locator(f"{shares} input[name=custodian][value={username}]").check()
    page.locator(f"{shares} input[name=confirm]").check()
    submit(page, shares)
    ok(page, "密钥已生成。每位保管人在自己的账户页面下载本人的分片。")
    expect(page.locator("p.custody")).to_contain_text("分片保管：发布需 3 份中的 2 份")
    rows = page.locator("#custody ~ table tbody tr")
    expect(rows.locator("td:nth-child(1)")).to_have_text(["director", "lead", "office"])
    expect(rows.locator("td:nth-child(2)")).to_have_text(["尚未下载"] * 3)

    # The director takes their share from their account page (open in two tabs): the
    # page says where it went and offers it no more; the stale tab is told, in Chinese.
    director = people["director"]
    director.log_in("director")
    account = director.go("/account")
    stale = director.context.new_page()
    stale.goto(account.url)
    share = account.locator("form", has_text="WK-SHR")
    with account.expect_download():
        share.get_by_role("button", name="下载我的分片（仅一次）").click()
    expect(share.get_by_role("button", name="下载我的分片（仅一次）")).to_be_hidden()
    expect(share.get_by_role("status")).to_have_text(
        "您在场次 WK-SHR 的密钥分片已在本浏览器的下载内容中，服务器已删除其副本。"
        "请离线保存，并与其他分片分开保管。"
    )
    with stale.expect_navigation():
        stale.get_by_role("button", name="下载我的分片（仅一次）").click()
    expect(stale.locator("main")).to_contain_text("下载了场次 WK-SHR 的密钥分片；服务器不留副本")
    director.checks.check_now(stale)
    account.reload()
    expect(account.locator("form", has_text="WK-SHR")).to_have_count(0)

    # Who holds what: the office sees which custodian has taken their share.
    page.reload()
    expect(rows.locator("td:nth-child(2)")).to_have_text(["已下载", "尚未下载", "尚未下载"])
    office.shot("93-office-shares-custody")


# --- the director: approval after the summary ----------------------------------------------


def test_the_director_reviews_the_summary_then_approves(
    world: World, people: dict[str, Person]
) -> None:
    marked_session(world, "WK-DIR", n=3)
    director = people["director"]
    page = director.log_in("director")
    waiting = page.locator("#waiting li[data-session='WK-DIR']")
    expect(waiting).to_be_visible()
    with page.expect_navigation():
        waiting.get_by_role("link").click()

    # The summary comes first, then the box that names what is approved.
    expect(page.locator("dd.candidates")).to_have_text("3")
    expect(page.locator("dd.responses-final")).to_have_text("12 / 12")
    expect(page.locator("dd.open-items")).to_have_text("0")
    expect(page.locator("table.component-review tbody th")).to_have_text(["理论知识", "操作技能"])
    approve = page.locator("form.approve")
    summary_above = page.evaluate(
        "document.querySelector('dl.review').compareDocumentPosition("
        "document.querySelector('form.approve')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert summary_above, "the approval form comes before the summary it approves"
    expect(approve.locator("label:has(input[name=confirm])")).to_have_text(
        "我已审阅上面的摘要。我批准按所示内容发布场次 WK-DIR：3 名考生、12 份已定分作答。"
        "之后考务可一次发布全部成绩；此后任何改动都会使我的批准失效。"
    )

    # Not ticked: the browser keeps the form and points at the box; nothing is approved.
    approve.get_by_role("button", name="批准发布").click()
    assert approve.locator("input[name=confirm]").evaluate("box => box.validity.valueMissing")
    expect(page.locator(".flash.ok")).to_have_count(0)

    approve.locator("input[name=note]").fill("已审阅成绩汇总")
    approve.locator("input[name=confirm]").check()
    director.shot("94-director-reviewed")
    submit(page, "form.approve")
    expect(page.locator("p.flash.ok")).to_have_text("已批准发布，考务办公室现在可以发布。")
    expect(page.locator("main")).to_contain_text("由 director 于")
    expect(page.get_by_role("button", name="撤回我的批准")).to_be_visible()
    page = director.go("/director/")
    expect(page.locator("#waiting li[data-session='WK-DIR']")).to_have_count(0)


# --- the examiner: handing back one response -----------------------------------------------


def test_a_response_handed_back_goes_to_an_examiner_who_had_none(
    world: World, people: dict[str, Person]
) -> None:
    # One candidate: two responses to mark twice. e1 and e2 hold both; e3 gets nothing.
    world.session("WK-BACK", n=1, examiners=("e1", "e2", "e3"))
    screens: dict[str, Page] = {}
    for username in ("e1", "e2", "e3"):
        people[username].log_in(username)
        screens[username] = people[username].go("/examiner/sessions/WK-BACK/mark")
        expect(
            screens[username].locator("#work:not([hidden]), #empty:not([hidden])")
        ).to_have_count(1)
    expect(screens["e1"].locator("#work")).to_be_visible()
    expect(screens["e3"].locator("#empty")).to_be_visible()
    expect(screens["e3"].locator("#message")).to_have_text("目前没有需要您评分的作答。谢谢！")

    page = screens["e1"]
    shown = page.locator("#text").inner_text()
    page.get_by_role("button", name="交回这份作答").click()
    expect(page.locator("#message")).to_have_text("已交回（未评分）：将由其他考评员评阅。")
    expect(page.locator("#text")).not_to_have_text(shown)  # e1's other response
    people["e1"].shot("95-examiner-handed-back-one")

    other = screens["e3"]
    other.get_by_role("button", name="重新查看").click()
    expect(other.locator("#work")).to_be_visible()
    expect(other.locator("#text")).to_have_text(shown)
    other.keyboard.type("1")
    other.keyboard.press("Enter")
    # Marked: e3's screen goes on to "nothing left" (e1 and e2 hold the other response).
    expect(other.locator("#empty")).to_be_visible()
    with world.tx() as db:
        exam, e3 = get_session(db, "WK-BACK"), get_account(db, "e3")
        given = db.scalar(
            select(Mark.value).where(
                Mark.response_id == response_id(db, exam, shown), Mark.examiner_id == e3.id
            )
        )
    assert given == 1


# --- downloads ---------------------------------------------------------------------------


def chinese(cells: list[object]) -> bool:
    """Every heading holds a Chinese character (numbers and codes are data, not headings)."""
    return all(any("\u4e00" <= ch <= "\u9fff" for ch in str(c)) for c in cells if c)


def test_the_office_and_the_lead_download_spreadsheets_that_open(
    world: World, people: dict[str, Person], tmp_path: Path
) -> None:
    published(world, "WK-DL")
    office = people["office"]
    office.log_in("office")
    page = office.go("/office/sessions/WK-DL/results")

    # The CSV exports are data for other programs: the §11 keys as headings, one row each.
    exports = page.locator("a[data-export]")
    expect(exports).to_have_text(["试卷结构（试题）", "评分", "最终得分", "成绩"])
    for i in range(exports.count()):
        rows = csv_rows(download(page, exports.nth(i), tmp_path))
        assert len(rows) > 1 and all(len(r) == len(rows[0]) for r in rows), rows[:2]
    results = csv_rows(download(page, page.locator("a[data-export=results]"), tmp_path))
    assert results[0][:2] == ["exam_no", "name"] and len(results) == 1 + 4

    # The reports for people: Chinese headings, scores as numbers, groups by name.
    register = xlsx_rows(download(page, page.get_by_role("link", name="成绩册 (XLSX)"), tmp_path))
    assert register[0] == [
        "准考证号",
        "姓名",
        "身份证号",
        "单位",
        "理论知识",
        "操作技能",
        "鉴定结果",
    ]
    assert all(isinstance(row[4], float) for row in register[1:]) and len(register) == 1 + 4
    stats = download(page, page.get_by_role("link", name="统计报告 (XLSX)"), tmp_path)
    questions = xlsx_rows(stats, "试题分析")
    assert chinese(questions[0]), questions[0]
    group = questions[0].index("评分组")
    assert [row[group] for row in questions[1:]] == [None, "简答题", None, "实操题"]

    # Monitoring, the office's and the lead's: a CSV with the screen's Chinese headings.
    page = office.go("/office/sessions/WK-DL/monitoring")
    office_csv = csv_rows(download(page, page.get_by_role("link", name="下载 CSV"), tmp_path))
    assert office_csv[0][:3] == ["评分组", "考评员", "用户名"] and chinese(office_csv[0])
    lead = people["lead"]
    lead.log_in("lead")
    page = lead.go("/lead/sessions/WK-DL/monitoring")
    lead_csv = csv_rows(download(page, page.get_by_role("link", name="下载 CSV"), tmp_path))
    assert lead_csv == office_csv
    page = lead.go("/lead/sessions/WK-DL")
    report = download(page, page.get_by_role("link", name="阅卷质量统计（PDF）"), tmp_path)
    assert report.read_bytes().startswith(b"%PDF")

"""Issue 14's examiner's and lead's days in a real browser, in Chinese: the examiner sees
the question as printed above the response, marks, corrects the last mark, hands back one
response and then the rest, and logging out leaves nothing held; the lead sees what waits
on the session list, arbitrates one response at a time beside the scheme and the examiners'
names (a refused mark comes back with the input kept), and withdraws a scheme approval
while nothing of the group is marked, after confirming. No English sentence on any page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marking.people.accounts import get_account
from marking.queue.claims import claim
from marking.queue.marks import submit_mark
from marking.setup.sessions import get_session
from marking.store.models import Lease, LeaseState, LedgerEntry
from tests.browser.conftest import Person
from tests.web.conftest import World

pytestmark = pytest.mark.sqlite  # chromium once, in the SQLite pass (tests/web covers PG)

#: Three or more English words in a row: a sentence left untranslated on the page.
ENGLISH = re.compile(r"\b[A-Za-z]{3,}(?:[ ,']+[A-Za-z]{2,}){2,}")


def all_chinese(page: Page) -> None:
    """The page's rendered text holds no untranslated English sentence."""
    visible = page.locator("body").inner_text()
    assert not ENGLISH.findall(visible), ENGLISH.findall(visible)


def held(world: World, username: str) -> int:
    with world.tx() as db:
        me = get_account(db, username)
        return len(
            db.scalars(
                select(Lease.id).where(Lease.examiner_id == me.id, Lease.state == LeaseState.HELD)
            ).all()
        )


def test_an_examiners_day(world: World, people: dict[str, Person]) -> None:
    world.session("BR-EXD", n=6, examiners=("e1", "e2"))
    examiner = people["e1"]
    page = examiner.log_in("e1")
    expect(page.locator("h1")).to_have_text("我的阅卷")
    expect(page.locator("progress[aria-label^='我在 简答题 的进度']")).to_have_count(1)
    all_chinese(page)
    with page.expect_navigation():
        page.locator("a[href='/examiner/sessions/BR-EXD/mark']").click()
    where, question = page.locator("#where"), page.locator("#question-text")
    expect(page.locator("#work")).to_be_visible()

    # Mark until the short question shows, with its text as printed under the heading.
    for _n in range(12):
        if where.inner_text().startswith("理论知识"):
            break
        before = page.locator("#text").inner_text()
        page.keyboard.type("1")
        page.keyboard.press("Enter")
        expect(page.locator("#text")).not_to_have_text(before)
    expect(where).to_have_text("理论知识 · 第 2 题")
    expect(question).to_have_text("停电检修时应采取哪些安全技术措施？")
    examiner.shot("40-examiner-question-text")
    all_chinese(page)
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_have_text("评分已记录。")

    # The last mark, with the keyboard: F4 shows it (question and mark), Escape goes back.
    page.keyboard.press("F4")
    expect(page.locator("#last-mark")).to_contain_text("您的评分 2")
    page.keyboard.press("Escape")
    expect(page.locator("#mark")).to_be_focused()

    # Hand back the one on screen: the next one held comes, and it is one fewer.
    left = int(page.locator("#left").inner_text())
    shown = page.locator("#text").inner_text()
    page.get_by_role("button", name="交回这份作答").click()
    expect(page.locator("#message")).to_have_text("已交回（未评分）：将由其他考评员评阅。")
    if left:
        expect(page.locator("#text")).not_to_have_text(shown)
        expect(page.locator("#left")).to_have_text(str(left - 1))
    assert held(world, "e1") == left

    # Hand back the rest: nothing is held, and the way on is offered, not a dead end.
    if left:
        page.get_by_role("button", name="全部交回并停止").click()
        expect(page.locator("#message")).to_have_text(
            "您领取的作答已全部交回，现在您名下没有领取的作答。"
        )
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#empty a[href='/examiner/']")).to_be_visible()
    assert held(world, "e1") == 0
    examiner.shot("41-examiner-handed-back")

    # Claim again, then log out: what was held goes back at once.
    page.get_by_role("button", name="重新查看").click()
    expect(page.locator("#work")).to_be_visible()
    assert held(world, "e1") > 0
    with page.expect_navigation():
        page.get_by_role("button", name="退出").click()
    assert held(world, "e1") == 0


def test_a_leads_day(world: World, people: dict[str, Person]) -> None:
    world.session("BR-LDD", examiners=("e1", "e2", "e3"))
    with world.tx() as db:
        exam = get_session(db, "BR-LDD")
        # Every short answer to arbitration: 0, 6 and 3 are pairwise beyond tolerance 1.
        for name, value in (("e1", "0"), ("e2", "6"), ("e3", "3")):
            account = get_account(db, name)
            for item in claim(db, exam, account, size=20):
                if item.group == "short":
                    submit_mark(
                        db, exam, account, response_id=item.response_id, value=Decimal(value)
                    )
    lead = people["lead"]
    page = lead.log_in("lead")
    row = page.locator("tr[data-session='BR-LDD']")
    expect(row.locator("td.arbitrations")).to_have_text("4")
    expect(row.locator("td.anomalies")).to_have_text("0")
    lead.shot("42-lead-sessions-counts")
    all_chinese(page)

    with page.expect_navigation():
        row.locator("td.arbitrations a").click()
    expect(page.locator("#arbitration-left")).to_have_text("等待您裁定：4 份")
    expect(page.locator(".task")).to_have_count(1)
    expect(page.locator(".reference")).to_have_text("断电、验电、挂接地线")
    expect(page.locator(".scheme-text")).to_have_text("每个要点 2 分")
    expect(page.locator(".question-text")).to_have_text("停电检修时应采取哪些安全技术措施？")
    expect(page.locator("th.marker")).to_have_text(["考评员e1", "考评员e2", "考评员e3"])
    all_chinese(page)
    lead.shot("43-lead-arbitration")

    # A mark off the step is refused beside the form, the input kept; then recorded.
    page.locator("input[name=value]").fill("2.3")
    page.locator("input[name=reason]").fill("按细则")
    with page.expect_navigation():
        page.get_by_role("button", name="记录最终分").click()
    expect(page.locator(".refused")).to_be_visible()
    expect(page.locator("input[name=value]")).to_have_value("2.3")
    expect(page.locator("input[name=reason]")).to_have_value("按细则")
    page.locator("input[name=value]").fill("2")
    with page.expect_navigation():
        page.get_by_role("button", name="记录最终分").click()
    expect(page.locator("#arbitration-left")).to_have_text("等待您裁定：3 份")

    # The practical group is not marked yet: its approval can be withdrawn, confirmed.
    page = lead.go("/lead/sessions/BR-LDD")
    prac = page.locator("#scheme-prac")
    prac.locator("summary").click()
    prac.locator("input[name=reason]").fill("参考答案有误")
    with page.expect_navigation():
        prac.get_by_role("button", name="撤回批准").click()
    expect(page.locator("#scheme-prac .refused")).to_contain_text("请勾选确认")
    expect(page.locator("#scheme-prac input[name=reason]")).to_have_value("参考答案有误")
    page.locator("#scheme-prac input[name=confirm]").check()
    with page.expect_navigation():
        page.locator("#scheme-prac").get_by_role("button", name="撤回批准").click()
    expect(page.locator("p.flash.ok")).to_contain_text("已撤回题组 实操题 评分细则的批准")
    expect(page.locator("#scheme-prac button.primary")).to_have_text("批准该细则并开放本组阅卷")
    # The short group has marks: no withdrawal offered, and the page says why.
    short = page.locator("#scheme-short")
    expect(short.get_by_role("button", name="撤回批准")).to_have_count(0)
    expect(short.locator(".withdraw-closed")).to_contain_text("本题组已开始评分")
    lead.shot("44-lead-scheme-withdrawal-closed")
    all_chinese(page)
    with world.tx() as db:
        kinds = db.scalars(select(LedgerEntry.kind)).all()
        assert kinds.count("scheme_withdrawn") == 1

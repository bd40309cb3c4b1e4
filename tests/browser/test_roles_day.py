"""Issue 14's examiner's and lead's days in a real browser, in Chinese and in English: the
examiner sees
the question as printed above the response, marks, corrects the last mark, hands back one
response and then the rest, and logging out leaves nothing held; the lead sees what waits
on the session list, arbitrates one response at a time beside the scheme and the examiners'
names (a refused mark comes back with the input kept), and withdraws a scheme approval
while nothing of the group is marked, after confirming. No English sentence on a Chinese
page, no Chinese of the interface on an English one (the session's own Chinese, its data,
aside)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marking.people.accounts import get_account
from marking.queue.claims import claim
from marking.queue.marks import submit_mark
from marking.setup.sessions import get_session
from marking.store.models import Lease, LeaseState, LedgerEntry
from tests.browser.conftest import LANGUAGES, Person
from tests.web.conftest import World

# Chromium once, in the SQLite pass (tests/web covers PG); each day in both languages.
pytestmark = [pytest.mark.sqlite, pytest.mark.parametrize("language", LANGUAGES)]
Say = Callable[[str, str], str]

#: Three or more English words in a row: a sentence left untranslated on the page.
ENGLISH = re.compile(r"\b[A-Za-z]{3,}(?:[ ,']+[A-Za-z]{2,}){2,}")


def all_chinese(page: Page) -> None:
    """A Chinese page's rendered text holds no untranslated English sentence (an English
    page's Chinese is the page check's: tests/browser/checks.py)."""
    if page.locator("html").get_attribute("lang") == "en":
        return
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


def test_an_examiners_day(world: World, people: dict[str, Person], language: str, say: Say) -> None:
    code = f"BR-EXD-{language}"
    world.session(code, n=6, examiners=("e1", "e2"))
    examiner = people["e1"]
    page = examiner.log_in("e1")
    expect(page.locator("h1")).to_have_text(say("我的阅卷", "My marking"))
    mine = page.locator(f"section[data-session='{code}']")
    expect(mine.locator("tr[data-group] th", has_text="简答题")).to_have_count(1)
    # No count of what is left (a check would move it): the page says where it shows.
    expect(mine.locator("p.hint")).to_contain_text(
        say("开始阅卷即知", "What is left for you shows when you mark")
    )
    all_chinese(page)
    with page.expect_navigation():
        page.locator(f"a[href='/examiner/sessions/{code}/mark']").click()
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
    expect(where).to_have_text(say("理论知识 · 第 2 题", "理论知识 · question 2"))
    expect(question).to_have_text("停电检修时应采取哪些安全技术措施？")
    # Marked from "start marking" (every group): the screen names the group of the item.
    expect(page.locator("#group-name")).to_have_text("简答题")
    examiner.shot("40-examiner-question-text")
    all_chinese(page)
    paper = page.locator("#script").inner_text()
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_have_text(say("评分已记录。", "Mark recorded."))

    # The last mark, with the keyboard: F4 shows it (question, paper and mark), Escape goes
    # back. The paper is named: the mark offered need not be the one just given.
    page.keyboard.press("F4")
    expect(page.locator("#last-mark")).to_contain_text(say("您的评分 2", "your mark 2"))
    expect(page.locator("#last-mark")).to_contain_text(paper)
    page.keyboard.press("Escape")
    expect(page.locator("#mark")).to_be_focused()

    # Hand back the one on screen: the next one held comes, and it is one fewer.
    left = int(page.locator("#left").inner_text())
    shown = page.locator("#text").inner_text()
    page.get_by_role("button", name=say("交回这份作答", "Hand back this response")).click()
    expect(page.locator("#message")).to_have_text(
        say(
            "已交回（未评分）：将由其他考评员评阅。",
            "Handed back unmarked: it goes to another examiner.",
        )
    )
    if left:
        expect(page.locator("#text")).not_to_have_text(shown)
        expect(page.locator("#left")).to_have_text(str(left - 1))
    assert held(world, "e1") == left

    # Hand back the rest: nothing is held, and the way on is offered, not a dead end.
    if left:
        stop = say("全部交回并停止", "Hand back all I hold and stop")
        page.get_by_role("button", name=stop).click()
        expect(page.locator("#message")).to_have_text(
            say(
                "您领取的作答已全部交回，现在您名下没有领取的作答。",
                "Everything you held is handed back. Nothing is held in your name now.",
            )
        )
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#empty a[href='/examiner/']")).to_be_visible()
    assert held(world, "e1") == 0
    examiner.shot("41-examiner-handed-back")

    # Claim again, then log out: what was held goes back at once.
    page.get_by_role("button", name=say("重新查看", "Look again")).click()
    expect(page.locator("#work")).to_be_visible()
    assert held(world, "e1") > 0
    with page.expect_navigation():
        page.get_by_role("button", name=say("退出", "Log out")).click()
    assert held(world, "e1") == 0


def test_a_leads_day(world: World, people: dict[str, Person], language: str, say: Say) -> None:
    code = f"BR-LDD-{language}"
    world.session(code, examiners=("e1", "e2", "e3"))
    with world.tx() as db:
        exam = get_session(db, code)
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
    row = page.locator(f"tr[data-session='{code}']")
    expect(row.locator("td.arbitrations")).to_have_text("4")
    expect(row.locator("td.anomalies")).to_have_text("0")
    lead.shot("42-lead-sessions-counts")
    all_chinese(page)

    with page.expect_navigation():
        row.locator("td.arbitrations a").click()
    expect(page.locator("#arbitration-left")).to_have_text(
        say("等待您裁定：4 份", "Waiting for your ruling: 4")
    )
    expect(page.locator(".task")).to_have_count(1)
    expect(page.locator(".reference")).to_have_text("断电、验电、挂接地线")
    expect(page.locator(".scheme-text")).to_have_text("每个要点 2 分")
    expect(page.locator(".question-text")).to_have_text("停电检修时应采取哪些安全技术措施？")
    expect(page.locator("th.marker")).to_have_text(["考评员e1", "考评员e2", "考评员e3"])
    all_chinese(page)
    lead.shot("43-lead-arbitration")

    # A mark off the step is refused beside the form, the input kept; then recorded.
    page.locator("input[name=value]").fill("2.3")
    reason = say("按细则", "as the scheme says")
    record = say("记录最终分", "Record final mark")
    page.locator("input[name=reason]").fill(reason)
    with page.expect_navigation():
        page.get_by_role("button", name=record).click()
    expect(page.locator(".refused")).to_be_visible()
    expect(page.locator("input[name=value]")).to_have_value("2.3")
    expect(page.locator("input[name=reason]")).to_have_value(reason)
    page.locator("input[name=value]").fill("2")
    with page.expect_navigation():
        page.get_by_role("button", name=record).click()
    expect(page.locator("#arbitration-left")).to_have_text(
        say("等待您裁定：3 份", "Waiting for your ruling: 3")
    )

    # The practical group is not marked yet: its approval can be withdrawn, confirmed.
    page = lead.go(f"/lead/sessions/{code}")
    prac = page.locator("#scheme-prac")
    withdraw = say("撤回批准", "Withdraw the approval")
    reason = say("参考答案有误", "the reference answer is wrong")
    prac.locator("summary").click()
    prac.locator("input[name=reason]").fill(reason)
    with page.expect_navigation():
        prac.get_by_role("button", name=withdraw).click()
    expect(page.locator("#scheme-prac .refused")).to_contain_text(say("请勾选确认", "Tick the box"))
    expect(page.locator("#scheme-prac input[name=reason]")).to_have_value(reason)
    page.locator("#scheme-prac input[name=confirm]").check()
    with page.expect_navigation():
        page.locator("#scheme-prac").get_by_role("button", name=withdraw).click()
    expect(page.locator("p.flash.ok")).to_contain_text(
        say("已撤回题组 实操题 评分细则的批准", "Approval of the scheme of group 实操题 withdrawn")
    )
    expect(page.locator("#scheme-prac button.primary")).to_have_text(
        say("批准该细则并开放本组阅卷", "Approve this scheme and open the group")
    )
    # The short group has marks: no withdrawal offered, and the page says why.
    short = page.locator("#scheme-short")
    expect(short.get_by_role("button", name=withdraw)).to_have_count(0)
    expect(short.locator(".withdraw-closed")).to_contain_text(
        say("本题组已开始评分", "Marking of this group has begun")
    )
    lead.shot("44-lead-scheme-withdrawal-closed")
    all_chinese(page)
    with world.tx() as db:
        withdrawn = db.scalars(
            select(LedgerEntry.id).where(
                LedgerEntry.kind == "scheme_withdrawn", LedgerEntry.session_id == exam.id
            )
        ).all()
        assert len(withdrawn) == 1


def test_hand_back_all_on_a_groups_page_hands_back_the_other_groups_work_too(
    world: World, people: dict[str, Person], language: str, say: Say
) -> None:
    """On the page of one group, "hand back all I hold and stop" handed back that group's
    work and said nothing was held any more, while what the examiner held of another group
    stayed theirs until it expired (a tester in Chinese)."""
    code = f"BR-ALL-{language}"
    world.session(code, n=6, examiners=("e1", "e2"))
    with world.tx() as db:
        exam, me = get_session(db, code), get_account(db, "e1")
        assert claim(db, exam, me, size=2, group="prac")  # held from another page
    people["e1"].log_in("e1")
    page = people["e1"].go(f"/examiner/sessions/{code}/mark?group=short")
    expect(page.locator("#work")).to_be_visible()
    page.get_by_role("button", name=say("全部交回并停止", "Hand back all I hold and stop")).click()
    expect(page.locator("#message")).to_have_text(
        say(
            "您领取的作答已全部交回，现在您名下没有领取的作答。",
            "Everything you held is handed back. Nothing is held in your name now.",
        )
    )
    assert held(world, "e1") == 0

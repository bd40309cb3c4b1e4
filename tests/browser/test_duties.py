"""Two duties of issue 12 (item 9) in a real browser: an examiner declares their own conflict
on their account page (seed rules 第七条(四), 回避), and a new examiner sets their password
through the office's one-time invitation link, then finds the used link refused on the login
page with a way on. Both in Chinese and again in English."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LANGUAGES, Person
from tests.integration.factory import people as roster
from tests.web.conftest import World

# Chromium once, in the SQLite pass (tests/web covers PG); in both languages.
pytestmark = [pytest.mark.sqlite, pytest.mark.parametrize("language", LANGUAGES)]
Say = Callable[[str, str], str]


def test_an_examiner_declares_a_conflict_and_sees_where_and_when_only(
    world: World, people: dict[str, Person], language: str, say: Say
) -> None:
    code = f"BR-DUTY-1-{language[:2].upper()}"  # each run a session of its own (one world)
    world.session(code, n=1)
    candidate = roster(1, seed=51, prefix="2699")[0]
    examiner = people["e1"]
    page = examiner.log_in("e1")
    declare = say("在“我的账户”页面申报回避", "Declare it (回避) on your account page")
    with page.expect_navigation():
        page.get_by_role("link", name=declare).click()
    form = page.locator("#declare-form")
    form.locator("select[name=session]").select_option(code)
    form.locator("select[name=relation]").select_option("teacher_student")
    seal = say("申报并密封", "Declare and seal")
    with page.expect_navigation():
        form.get_by_role("button", name=seal).click()
    expect(page.locator("#declare-refused")).to_contain_text(
        say("请输入考生的身份证号", "Type the candidate's ID number")
    )
    expect(form.locator("select[name=relation]")).to_have_value("teacher_student")  # kept
    form.locator("input[name=id_number]").fill(candidate.id_number)
    with page.expect_navigation():
        form.get_by_role("button", name=seal).click()
    expect(page.locator(".flash.ok")).to_contain_text(
        say(
            f"回避声明已记录并密封于 1 个场次：{code}",
            f"Declaration recorded and sealed in 1 session(s): {code}",
        )
    )
    expect(page.locator("table.declarations")).to_contain_text(code)
    examiner.shot("61-examiner-declared-a-conflict")
    assert candidate.id_number not in page.content()
    assert candidate.name not in page.content()


def test_a_new_examiner_sets_a_password_through_an_invitation(
    world: World, people: dict[str, Person], language: str, say: Say
) -> None:
    new = "e7" if language == "zh_CN" else "e8"  # each run a newcomer of its own (one world)
    world.session(f"BR-DUTY-2-{language[:2].upper()}", n=1, examiners=("e1", "e2", "e3", new))
    office = people["office"]
    page = office.log_in("office")
    office.go("/office/examiners")
    with page.expect_navigation():
        page.locator(f"a[href='/office/examiners/{new}/access']").click()
    with page.expect_navigation():
        page.get_by_role("button", name=say("生成邀请链接", "Make an invitation link")).click()
    link = page.locator("#invitation-link").inner_text()
    office.shot("62-office-invitation-link")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/invitation/[\w-]{40,}", link)

    newcomer = people[new]
    invited = newcomer.page
    invited.goto(link)
    expect(invited.locator("h1")).to_have_text(say("设置您的密码", "Set your password"))
    chosen = f"{new}-chosen-password-1"
    invited.locator("input[name=password]").fill(chosen)
    invited.locator("input[name=password2]").fill(chosen)
    with invited.expect_navigation():
        invited.get_by_role("button", name=say("设置我的密码", "Set my password")).click()
    expect(invited.locator(".flash.ok")).to_contain_text(
        say("密码已设置，请用它登录", "Your password is set. Log in with it.")
    )
    expect(invited.locator("input[name=username]")).to_have_value(new)
    newcomer.log_in(new, chosen)
    expect(invited.locator("h1")).to_have_text(say("我的阅卷", "My marking"))

    again = people["stranger"].page
    again.goto(link)
    expect(again.locator("#invitation-gone")).to_contain_text(
        say("此邀请链接已被使用", "This invitation link was used already")
    )
    expect(again.locator("input[name=username]")).to_be_visible()  # a way on: log in
    people["stranger"].shot("63-used-invitation-on-the-login-page")

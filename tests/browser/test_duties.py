"""Two duties of issue 12 (item 9) in a real browser: an examiner declares their own conflict
on their account page (seed rules 第七条(四), 回避), and a new examiner sets their password
through the office's one-time invitation link, then finds the used link refused on the login
page with a way on."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Person
from tests.integration.factory import people as roster
from tests.web.conftest import World

pytestmark = pytest.mark.sqlite  # chromium once, in the SQLite pass (tests/web covers PG)


def test_an_examiner_declares_a_conflict_and_sees_where_and_when_only(
    world: World, people: dict[str, Person]
) -> None:
    world.session("BR-DUTY-1", n=1)
    candidate = roster(1, seed=51, prefix="2699")[0]
    examiner = people["e1"]
    page = examiner.log_in("e1")
    with page.expect_navigation():
        page.get_by_role("link", name="在“我的账户”页面申报回避").click()
    form = page.locator("#declare-form")
    form.locator("select[name=session]").select_option("BR-DUTY-1")
    form.locator("select[name=relation]").select_option("teacher_student")
    with page.expect_navigation():
        form.get_by_role("button", name="申报并密封").click()
    expect(page.locator("#declare-refused")).to_contain_text("请输入考生的身份证号")
    expect(form.locator("select[name=relation]")).to_have_value("teacher_student")  # kept
    form.locator("input[name=id_number]").fill(candidate.id_number)
    with page.expect_navigation():
        form.get_by_role("button", name="申报并密封").click()
    expect(page.locator(".flash.ok")).to_contain_text("回避声明已记录并密封于 1 个场次：BR-DUTY-1")
    expect(page.locator("table.declarations")).to_contain_text("BR-DUTY-1")
    examiner.shot("61-examiner-declared-a-conflict")
    assert candidate.id_number not in page.content()
    assert candidate.name not in page.content()


def test_a_new_examiner_sets_a_password_through_an_invitation(
    world: World, people: dict[str, Person]
) -> None:
    world.session("BR-DUTY-2", n=1, examiners=("e1", "e2", "e3", "e7"))
    office = people["office"]
    page = office.log_in("office")
    office.go("/office/examiners")
    with page.expect_navigation():
        page.locator("a[href='/office/examiners/e7/access']").click()
    with page.expect_navigation():
        page.get_by_role("button", name="生成邀请链接").click()
    link = page.locator("#invitation-link").inner_text()
    office.shot("62-office-invitation-link")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/invitation/[\w-]{40,}", link)

    newcomer = people["e7"]
    invited = newcomer.page
    invited.goto(link)
    expect(invited.locator("h1")).to_have_text("设置您的密码")
    invited.locator("input[name=password]").fill("e7-chosen-password-1")
    invited.locator("input[name=password2]").fill("e7-chosen-password-1")
    with invited.expect_navigation():
        invited.get_by_role("button", name="设置我的密码").click()
    expect(invited.locator(".flash.ok")).to_contain_text("密码已设置，请用它登录")
    expect(invited.locator("input[name=username]")).to_have_value("e7")
    newcomer.log_in("e7", "e7-chosen-password-1")
    expect(invited.locator("h1")).to_have_text("我的阅卷")

    again = people["stranger"].page
    again.goto(link)
    expect(again.locator("#invitation-gone")).to_contain_text("此邀请链接已被使用")
    expect(again.locator("input[name=username]")).to_be_visible()  # a way on: log in
    people["stranger"].shot("63-used-invitation-on-the-login-page")

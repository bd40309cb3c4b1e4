"""Issue 12 in a real browser: the office records a collective violation decision on its
records page, the publication checklist shows it waiting, and the guidance centre approves
it, confirmed, in a browser of its own (R13, 第七条(五)). Nothing on the way names a
candidate before publication."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from marking.setup.sessions import get_session
from tests.browser.conftest import Person
from tests.integration.factory import mark_all
from tests.web.conftest import World

pytestmark = pytest.mark.sqlite


def test_a_collective_decision_is_entered_and_approved_by_the_centre(
    world: World, people: dict[str, Person]
) -> None:
    tiny = world.session("BR-REC")
    with world.tx() as db:
        mark_all(db, get_session(db, "BR-REC"), ["e1", "e2", "e3"])
    c1, c2 = tiny.candidates[0].exam_no, tiny.candidates[1].exam_no

    office = people["office"]
    page = office.log_in("office")
    office.go("/office/sessions/BR-REC")
    with page.expect_navigation():
        page.get_by_role("link", name="违纪与面试").first.click()
    form = page.locator("#violation-form")
    form.locator("input[name=exam_no]").fill(f"{c1} {c2}")
    form.locator("select[name=action]").select_option("void")
    form.locator("input[name=reason]").fill("集体作弊")
    with page.expect_navigation():  # no one named as deciding, no collective id: refused
        form.locator("button[type=submit]").click()
    expect(page.locator("[data-field=decided_by]")).to_be_visible()
    expect(page.locator("[data-field=collective]")).to_be_visible()
    expect(form.locator("input[name=reason]")).to_have_value("集体作弊")
    form.locator("input[name=decided_by]").fill("lead")
    form.locator("input[name=collective]").fill("BR-G1")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("p.flash.ok")).to_have_text("违纪已记录并密封。")
    expect(page.locator("li[data-collective=BR-G1]")).to_contain_text("待鉴定指导中心批准")
    office.shot("40-office-records")
    office.go("/office/sessions/BR-REC/publication")
    expect(page.locator("#collectives-check")).to_contain_text("BR-G1")
    expect(page.locator("#collectives-check")).to_have_class("todo")
    for exam_no in (c1, c2):
        expect(page.locator("body")).not_to_contain_text(exam_no)

    centre = people["centre"]
    desk = centre.log_in("centre")
    row = desk.locator("tr[data-collective=BR-G1]")
    expect(row).to_contain_text("BR-REC")
    with desk.expect_navigation():  # not confirmed: refused, nothing approved
        row.get_by_role("button", name="批准").click()
    expect(desk.locator(".field-error")).to_have_text("请勾选确认框以确认批准。")
    row = desk.locator("tr[data-collective=BR-G1]")
    row.locator("input[name=confirm]").check()
    centre.shot("41-centre-approve")
    with desk.expect_navigation():
        row.get_by_role("button", name="批准").click()
    expect(desk.locator("p.flash.ok")).to_contain_text("BR-G1")
    expect(desk.locator("tr[data-collective=BR-G1]")).to_have_count(0)

    page.reload()
    expect(page.locator("#collectives-check")).to_have_class("ok")

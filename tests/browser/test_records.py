"""Issue 12 in a real browser: the office records a collective violation decision on its
records page, the publication checklist shows it waiting, and the guidance centre approves
it, confirmed, in a browser of its own (R13, 第七条(五)). Nothing on the way names a
candidate before publication. Walked in Chinese and again in English."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from marking.setup.sessions import get_session
from tests.browser.conftest import LANGUAGES, Person
from tests.integration.factory import mark_all
from tests.web.conftest import World

pytestmark = [pytest.mark.sqlite, pytest.mark.parametrize("language", LANGUAGES)]


def test_a_collective_decision_is_entered_and_approved_by_the_centre(
    world: World, people: dict[str, Person], language: str, say: Callable[[str, str], str]
) -> None:
    tag = language[:2].upper()  # each run a session and a decision of its own (one world)
    code, collective = f"BR-REC-{tag}", f"BR-G1-{tag}"
    tiny = world.session(code)
    with world.tx() as db:
        mark_all(db, get_session(db, code), ["e1", "e2", "e3"])
    c1, c2 = tiny.candidates[0].exam_no, tiny.candidates[1].exam_no

    office = people["office"]
    page = office.log_in("office")
    office.go(f"/office/sessions/{code}")
    with page.expect_navigation():
        page.get_by_role("link", name=say("违纪与面试", "Violations and interviews")).first.click()
    form = page.locator("#violation-form")
    form.locator("input[name=exam_no]").fill(f"{c1} {c2}")
    form.locator("select[name=action]").select_option("void")
    reason = say("集体作弊", "collective cheating")
    form.locator("input[name=reason]").fill(reason)
    with page.expect_navigation():  # no one named as deciding, no collective id: refused
        form.locator("button[type=submit]").click()
    expect(page.locator("[data-field=decided_by]")).to_be_visible()
    expect(page.locator("[data-field=collective]")).to_be_visible()
    expect(form.locator("input[name=reason]")).to_have_value(reason)
    form.locator("input[name=decided_by]").fill("lead")
    form.locator("input[name=collective]").fill(collective)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("p.flash.ok")).to_have_text(
        say("违纪已记录并密封。", "Violation recorded and sealed.")
    )
    expect(page.locator(f"li[data-collective={collective}]")).to_contain_text(
        say("待鉴定指导中心批准", "waiting for the guidance centre's approval")
    )
    office.shot("40-office-records")
    office.go(f"/office/sessions/{code}/publication")
    expect(page.locator("#collectives-check")).to_contain_text(collective)
    expect(page.locator("#collectives-check")).to_have_class("todo")
    for exam_no in (c1, c2):
        expect(page.locator("body")).not_to_contain_text(exam_no)

    centre = people["centre"]
    desk = centre.log_in("centre")
    row = desk.locator(f"tr[data-collective={collective}]")
    expect(row).to_contain_text(code)
    approve = say("批准", "Approve")
    with desk.expect_navigation():  # not confirmed: refused, nothing approved
        row.get_by_role("button", name=approve).click()
    expect(desk.locator(".field-error")).to_have_text(
        say("请勾选确认框以确认批准。", "Tick the box to confirm the approval.")
    )
    row = desk.locator(f"tr[data-collective={collective}]")
    row.locator("input[name=confirm]").check()
    centre.shot("41-centre-approve")
    with desk.expect_navigation():
        row.get_by_role("button", name=approve).click()
    expect(desk.locator("p.flash.ok")).to_contain_text(collective)
    expect(desk.locator(f"tr[data-collective={collective}]")).to_have_count(0)

    page.reload()
    expect(page.locator("#collectives-check")).to_have_class("ok")

"""The lead's quality control in the browser (issue 13's proof): the lead builds a seed from
the blind sample, sees a drift alarm with its evidence, suspends the examiner after the page
said what would happen, and the examiner's responses go back to be marked by others."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marking.people.accounts import get_account
from marking.setup.sessions import get_session
from marking.store.models import AlarmKind, CheckAlarm, CheckItem, ResponseState
from tests.browser.conftest import Person
from tests.integration.factory import response_of
from tests.integration.test_marking_corrections import mark_as
from tests.web.conftest import World

pytestmark = pytest.mark.sqlite  # chromium once, in the SQLite pass (as test_screens.py)


def test_the_lead_builds_a_seed_reads_an_alarm_and_suspends(
    world: World, people: dict[str, Person]
) -> None:
    world.session("BR-QC", n=3)
    with world.tx() as db:
        exam = get_session(db, "BR-QC")
        mark_as(db, exam, "e1", {"c1 theory": "6", "c2 theory": "6"})
        short = next(g for g in exam.groups if g.key == "short")
        db.add(
            CheckAlarm(
                session_id=exam.id,
                group_id=short.id,
                examiner_id=get_account(db, "e1").id,
                kind=AlarmKind.SEED_BIAS,
                evidence={
                    "mean": "0.9",
                    "seeds": [{"check": 1, "expected": "2", "given": "6", "deviation": "4"}],
                },
            )
        )
    lead = people["lead"]
    page = lead.log_in("lead")
    page = lead.go("/lead/sessions/BR-QC")
    page.get_by_role("link", name="质量控制").click()
    expect(page.locator("h1")).to_contain_text("质量控制")
    page.locator("#group-short").get_by_role("link", name="资格测试与样卷").click()
    first = page.locator("section.candidate").first
    first.locator("input[name=value]").fill("2")
    first.locator("input[name=note]").fill("要点不全")
    first.get_by_role("button", name="添加").click()
    expect(page.locator(".flash.ok")).to_contain_text("已添加样卷")
    expect(page.locator("section.item")).to_have_count(1)
    lead.shot("60-lead-seeds")

    page = lead.go("/lead/sessions/BR-QC/quality/alarms")
    alarm = page.locator("section.alarm").first
    expect(alarm).to_contain_text("样卷系统性偏差")
    expect(alarm).to_contain_text("考评员e1")
    lead.shot("61-lead-alarm-inbox")
    alarm.get_by_role("link", name="暂停…").click()
    expect(page.locator(".consequences")).to_contain_text("撤回则这些作答由他人重评")
    page.locator("input[name=marks][value=withdraw]").check()
    page.locator("input[name=reason]").fill("样卷系统性偏宽")
    page.locator("input[name=confirm]").check()
    lead.shot("62-lead-suspend-confirm")
    page.get_by_role("button", name="暂停").click()
    expect(page.locator(".flash.ok")).to_contain_text("撤回 2 个评分")
    row = page.locator("#group-short tr[data-examiner=e1]")
    expect(row.locator(".status")).to_contain_text("已暂停")
    lead.shot("63-lead-quality-suspended")

    with world.tx() as db:
        exam = get_session(db, "BR-QC")
        for text in ("c1 theory", "c2 theory"):
            response = response_of(db, exam, text)
            assert (response.state, response.marks_done) == (ResponseState.OPEN, 0)
        assert len(db.scalars(select(CheckItem).where(CheckItem.session_id == exam.id)).all()) == 1

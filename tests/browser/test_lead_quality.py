"""The lead's quality control in the browser (issue 13's proof): the lead builds a seed from
the blind sample, sees a drift alarm with its evidence, suspends the examiner after the page
said what would happen, and the examiner's responses go back to be marked by others."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marking.people.accounts import get_account
from marking.setup.sessions import get_session
from marking.store.models import AlarmKind, CheckAlarm, CheckItem, ResponseState
from tests.browser.conftest import LANGUAGES, Person
from tests.integration.factory import response_of
from tests.integration.test_marking_corrections import mark_as
from tests.web.conftest import World

# Chromium once, in the SQLite pass (as test_screens.py); in both languages.
pytestmark = [pytest.mark.sqlite, pytest.mark.parametrize("language", LANGUAGES)]


def test_the_lead_builds_a_seed_reads_an_alarm_and_suspends(
    world: World, people: dict[str, Person], language: str, say: Callable[[str, str], str]
) -> None:
    code = f"BR-QC-{language[:2].upper()}"  # each run a session of its own (one world)
    world.session(code, n=3)
    with world.tx() as db:
        exam = get_session(db, code)
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
    page = lead.go(f"/lead/sessions/{code}")
    page.get_by_role("link", name=say("质量控制", "Quality control")).click()
    expect(page.locator("h1")).to_contain_text(say("质量控制", "Quality control"))
    seeds = say("资格测试与样卷", "Qualification set and seeds")
    page.locator("#group-short").get_by_role("link", name=seeds).click()
    first = page.locator("section.candidate").first
    first.locator("input[name=value]").fill("2")
    first.locator("input[name=note]").fill(say("要点不全", "points missing"))
    first.get_by_role("button", name=say("添加", "Add")).click()
    expect(page.locator(".flash.ok")).to_contain_text(say("已添加样卷", "Seed added"))
    expect(page.locator("section.item")).to_have_count(1)
    lead.shot("60-lead-seeds")

    page = lead.go(f"/lead/sessions/{code}/quality/alarms")
    alarm = page.locator("section.alarm").first
    expect(alarm).to_contain_text(say("样卷系统性偏差", "Seeds marked off in one direction"))
    expect(alarm).to_contain_text("考评员e1")
    lead.shot("61-lead-alarm-inbox")
    alarm.get_by_role("link", name=say("暂停…", "Suspend…")).click()
    expect(page.locator(".consequences")).to_contain_text(
        say("撤回则这些作答由他人重评", "Withdrawn, those responses are marked again by others")
    )
    page.locator("input[name=marks][value=withdraw]").check()
    page.locator("input[name=reason]").fill(say("样卷系统性偏宽", "seeds marked too high"))
    page.locator("input[name=confirm]").check()
    lead.shot("62-lead-suspend-confirm")
    page.get_by_role("button", name=say("暂停", "Suspend")).click()
    expect(page.locator(".flash.ok")).to_contain_text(say("撤回 2 个评分", "2 mark(s) withdrawn"))
    row = page.locator("#group-short tr[data-examiner=e1]")
    expect(row.locator(".status")).to_contain_text(say("已暂停", "Suspended"))
    lead.shot("63-lead-quality-suspended")

    with world.tx() as db:
        exam = get_session(db, code)
        for text in ("c1 theory", "c2 theory"):
            response = response_of(db, exam, text)
            assert (response.state, response.marks_done) == (ResponseState.OPEN, 0)
        assert len(db.scalars(select(CheckItem).where(CheckItem.session_id == exam.id)).all()) == 1

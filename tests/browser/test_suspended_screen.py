"""Suspended while marking, in a real browser: the next mark is refused with the lead's
reason quoted after the sentence, and the rest of that group's batch (handed back by the
suspension) is not shown again for marks that would be lost too. A tester typed three marks
into such a batch, each refused and thrown away."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from marking.people.accounts import get_account
from marking.quality.suspension import suspend
from marking.setup.sessions import get_session
from tests.browser.conftest import Person
from tests.web.conftest import World

pytestmark = pytest.mark.sqlite  # chromium once, in the SQLite pass (tests/web covers PG)


def test_a_suspended_examiner_is_told_why_and_shown_nothing_more_of_that_group(
    world: World, people: dict[str, Person]
) -> None:
    world.session("BR-SUS", n=6, examiners=("e1", "e2", "e3"))
    examiner = people["e1"]
    examiner.log_in("e1")
    page = examiner.go("/examiner/sessions/BR-SUS/mark?group=short")
    expect(page.locator("#work")).to_be_visible()
    assert int(page.locator("#left").inner_text()) >= 1  # more of the batch behind it
    with world.tx() as db:
        exam = get_session(db, "BR-SUS")
        short = next(g for g in exam.groups if g.key == "short")
        lead, e1 = get_account(db, "lead"), get_account(db, "e1")
        suspend(db, exam, lead, examiner=e1, group=short, reason="偏严", keep_marks=True)

    page.locator("#mark").fill("1")
    page.keyboard.press("Enter")
    message = page.locator("#message")
    expect(message).to_contain_text("此评分未记录。暂停理由：“偏严”")
    expect(message).not_to_contain_text("(偏严)")
    expect(page.locator("#work")).to_be_hidden()  # no next item of the batch handed back
    expect(page.locator("#empty")).to_be_visible()
    examiner.shot("60-examiner-suspended-while-marking")
